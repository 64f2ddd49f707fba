"""A report made here about a Fediverse person, forwarded to their server as a Flag.

    activity = await load_flag(conn, base_url, report_id)   # None: nothing to send

As Mastodon forwards one: from the instance actor (``/actor``, signing with its own key), so
the reporter's identity stays here; ``object`` is the person's actor and, after it, the
reported posts' IRIs; ``content`` the reporter's comment. It goes to the person's server,
their shared inbox where they have one (weft.federation.outbox expands the audience).
Reports queue like entries do (weft.store.outbox.queue_report), in the transaction that
stores them, and are delivered and retried as every activity is.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.ids import is_entry_id, parse_entry_id
from weft.federation import as2_build as build
from weft.federation.outbound_build import Audience, OutboundActivity
from weft.federation.urls import INSTANCE_ACTOR_ID, instance_actor_url, object_url
from weft.store.entries import entries_by_ids
from weft.store.foreign import origins_of_entries
from weft.store.moderation import report_by_id
from weft.store.schema import remote_actors

__all__ = ["flag_id", "load_flag"]


def flag_id(base: str, report: int) -> str:
    """The Flag's id: the instance actor's, with the report's number (as Mastodon names
    activities that have no page of their own)."""
    return f"{instance_actor_url(base)}#flags/{report}"


async def load_flag(conn: AsyncConnection, base: str, report_id: int) -> OutboundActivity | None:
    """The Flag of the report ``report_id``; None unless it is to be forwarded and names a
    Fediverse person this node holds."""
    report = await report_by_id(conn, report_id)
    if report is None or not report.forward or report.reporter is None:
        return None
    actor = (await conn.execute(select(remote_actors.c.iri).where(remote_actors.c.identity == report.target))).scalar()
    if actor is None:
        return None
    wanted = [parse_entry_id(text) for text in report.entries if is_entry_id(text)]
    held = await entries_by_ids(conn, wanted)
    rows = {entry_id: row for entry_id, (row, author) in held.items() if author == report.target}
    origins = await origins_of_entries(conn, rows.values())
    posts = [origins.get(rows[entry_id]) or object_url(base, entry_id) for entry_id in wanted if entry_id in rows]
    instance = instance_actor_url(base)
    activity = build.flag(id=flag_id(base, report.id), actor=instance, objects=[actor, *posts],
                          content=report.comment)
    return OutboundActivity(INSTANCE_ACTOR_ID, instance, activity, Audience(people=(str(actor),)))
