"""Boosts as statuses of their own: who may be shown one, by its status id, in live streams.
SQL only.

A boost (a ``reactions`` row of kind BOOST) has a status id of its own,
``status_id(reaction.ts, reaction.entry)``, and is shown wrapped around its post. It may
be shown to a viewer when its post is alive and ``visible_to`` the viewer, and its booster
does not block the viewer. In a home timeline (``boost_at_home``), as on Mastodon, also
not when the viewer mutes or blocks the post's author or the booster, and never a boost of
the viewer's own post: the viewer is notified of that one instead.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, exists, literal, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Join

from weft.store.account_statuses import TimelineItem
from weft.store.schema import (
    BLOCK,
    BOOST,
    FOLLOW,
    MUTE,
    entries,
    identities,
    posts,
    reactions,
    relations,
)
from weft.store.social import let_in
from weft.store.statuses import Viewer, alive_at, visible_to

__all__ = ["boost_at_home", "boost_by_status", "boost_shown", "boosts_at_home", "boosts_seen_by", "joined"]

boost_entry = entries.alias("boost_entry")
_target = entries.alias("boost_target")


def joined() -> Join:
    """reactions with the boost's own entry (``boost_entry``, for its id) and its post (``posts``)."""
    return (reactions.join(boost_entry, boost_entry.c.id == reactions.c.entry)
            .join(_target, _target.c.entry_id == reactions.c.target)
            .join(posts, posts.c.entry == _target.c.id))


def boost_shown(viewer: Viewer, now_ms: int) -> list[ColumnElement[bool]]:
    """SQL over ``joined()``: the row is a boost that may be shown to ``viewer`` (None: anyone)."""
    where = [reactions.c.kind == BOOST, alive_at(now_ms), visible_to(viewer)]
    if viewer is not None:
        me = viewer if isinstance(viewer, ColumnElement) else literal(viewer)
        where.append(not_(exists().where(relations.c.source == reactions.c.author, relations.c.target == me,
                                         relations.c.kind == BLOCK, relations.c.active.is_(True))))
    return where


def _hidden(viewer: int | ColumnElement[Any]) -> Select[Any]:
    return select(relations.c.target).where(relations.c.source == viewer, relations.c.kind.in_((MUTE, BLOCK)),
                                            relations.c.active.is_(True))


def boost_at_home(viewer: int | ColumnElement[Any], now_ms: int) -> list[ColumnElement[bool]]:
    """SQL over ``joined()``: the boost may be in ``viewer``'s home timeline, whoever boosted
    it (callers say whose boosts: the viewer's and those of whom it follows)."""
    return [*boost_shown(viewer, now_ms), posts.c.author != viewer,
            posts.c.author.not_in(_hidden(viewer)), reactions.c.author.not_in(_hidden(viewer))]


def boosts_at_home(viewer: int, now_ms: int) -> list[ColumnElement[bool]]:
    """SQL over ``joined()``: a boost of ``viewer``'s home timeline (by the viewer, or by
    whom it follows), through the index of reactions by (author, ts)."""
    followed = select(relations.c.target).where(relations.c.source == viewer, relations.c.kind == FOLLOW,
                                                relations.c.active.is_(True),
                                                let_in(literal(viewer), relations.c.target))
    return [or_(reactions.c.author == viewer, reactions.c.author.in_(followed)), *boost_at_home(viewer, now_ms)]


async def boost_by_status(conn: AsyncConnection, sid: int, viewer: int | None, *,
                          now_ms: int) -> TimelineItem | None:
    """The boost whose status id is ``sid``, if the viewer may see it."""
    ts, low = divmod(sid, 65536)
    found = (await conn.execute(
        select(reactions.c.entry, reactions.c.author, boost_entry.c.entry_id, posts.c.entry.label("post"))
        .select_from(joined())
        .where(reactions.c.ts == ts, reactions.c.entry % 65536 == low, *boost_shown(viewer, now_ms))
        .limit(1))).first()
    if found is None:
        return None
    return TimelineItem(found.post, (found.entry, found.author, bytes(found.entry_id), ts))


async def boosts_seen_by(conn: AsyncConnection, rows: Collection[int], viewers: Collection[int], *,
                         now_ms: int) -> dict[int, tuple[TimelineItem, set[int]]]:
    """Boost row -> (the boost as a timeline item, which of ``viewers`` have it in their home
    timeline), for the boosts among ``rows``: one statement for every viewer."""
    if not rows or not viewers:
        return {}
    viewer = identities.alias("viewer")
    follows = exists().where(relations.c.source == viewer.c.id, relations.c.target == reactions.c.author,
                             relations.c.kind == FOLLOW, relations.c.active.is_(True),
                             let_in(viewer.c.id, reactions.c.author))
    query = (select(viewer.c.id.label("viewer"), reactions.c.entry, reactions.c.author, reactions.c.ts,
                    boost_entry.c.entry_id, posts.c.entry.label("post"))
             .select_from(joined().join(viewer, true()))
             .where(viewer.c.id.in_(sorted(set(viewers))), reactions.c.entry.in_(sorted(set(rows))),
                    or_(reactions.c.author == viewer.c.id, follows), *boost_at_home(viewer.c.id, now_ms)))
    found: dict[int, tuple[TimelineItem, set[int]]] = {}
    for row in (await conn.execute(query)).all():
        item = TimelineItem(row.post, (row.entry, row.author, bytes(row.entry_id), row.ts))
        found.setdefault(row.entry, (item, set()))[1].add(row.viewer)
    return found
