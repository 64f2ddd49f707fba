"""Notifications and read markers of local identities. SQL only.

Notifications are written by the fold (store/social.py); here they are read, dismissed
and cleared. Markers are where a person stopped reading a timeline, per account.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import markers, notifications
from weft.store.sql import upsert

__all__ = ["Marker", "NoticeRow", "clear_notices", "dismiss_notice", "marker_rows", "notice_rows", "set_marker"]


@dataclass(frozen=True)
class NoticeRow:
    id: int
    kind: int
    actor: int
    post: int | None
    ts: int


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: str
    version: int
    updated_at: int


async def notice_rows(conn: AsyncConnection, identity: int, *, limit: int, max_id: int | None = None,
                      since_id: int | None = None, min_id: int | None = None,
                      kinds: Collection[int] | None = None, actor: int | None = None) -> list[NoticeRow]:
    """A page of ``identity``'s notifications, newest first (Mastodon's paging by id)."""
    query = select(notifications.c.id, notifications.c.kind, notifications.c.actor, notifications.c.post,
                   notifications.c.ts).where(notifications.c.identity == identity)
    if kinds is not None:
        query = query.where(notifications.c.kind.in_(sorted(kinds)))
    if actor is not None:
        query = query.where(notifications.c.actor == actor)
    if max_id is not None:
        query = query.where(notifications.c.id < max_id)
    if since_id is not None:
        query = query.where(notifications.c.id > since_id)
    if min_id is not None:
        query = query.where(notifications.c.id > min_id).order_by(notifications.c.id).limit(limit)
        rows = list(reversed((await conn.execute(query)).all()))
    else:
        rows = list((await conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))).all())
    return [NoticeRow(row.id, row.kind, row.actor, row.post, row.ts) for row in rows]


async def dismiss_notice(conn: AsyncConnection, identity: int, notice: int) -> bool:
    result = await conn.execute(delete(notifications).where(notifications.c.identity == identity,
                                                            notifications.c.id == notice))
    return bool(result.rowcount)


async def clear_notices(conn: AsyncConnection, identity: int) -> None:
    await conn.execute(delete(notifications).where(notifications.c.identity == identity))


async def marker_rows(conn: AsyncConnection, account: int, timelines: Collection[str]) -> list[Marker]:
    rows = await conn.execute(select(markers.c.timeline, markers.c.last_read_id, markers.c.version,
                                     markers.c.updated_at)
                              .where(markers.c.account == account, markers.c.timeline.in_(sorted(timelines))))
    return [Marker(*row) for row in rows.all()]


async def set_marker(conn: AsyncConnection, account: int, timeline: str, last_read_id: str, now: int) -> Marker:
    """Move a marker; its version counts the moves (Mastodon's optimistic-locking number)."""
    current = (await conn.execute(select(markers.c.version).where(
        markers.c.account == account, markers.c.timeline == timeline))).scalar()
    version = 0 if current is None else int(current) + 1
    await conn.execute(upsert(conn, markers, ["account", "timeline"], ["last_read_id", "version", "updated_at"]),
                       [{"account": account, "timeline": timeline, "last_read_id": last_read_id,
                         "version": version, "updated_at": now}])
    return Marker(timeline, last_read_id, version, now)
