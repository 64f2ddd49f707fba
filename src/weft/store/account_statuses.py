"""One person's posts and boosts as a viewer may see them: Mastodon's account statuses,
with its filters. SQL only.

A page merges two lists by time: the person's posts and their boosts of others' posts
(a boost shows when its post may be shown to the viewer, and not when the viewer blocks
or mutes the post's author, as on Mastodon). Both are ordered by (ts, entry row): post
rows and boost rows are both ``entries.id``, so the order is total and the cursors of
either kind (status ids, ``weft.store.statuses.status_id``) page through both alike.

Filters, as Mastodon's: ``only_media`` keeps posts with images (and drops boosts, which
carry none of their own), ``exclude_replies`` drops replies except to oneself (a thread
stays), ``exclude_reblogs`` drops boosts, ``tag`` keeps posts with that hashtag (and
drops boosts).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import LargeBinary, and_, exists, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from weft.store.schema import (
    BLOCK,
    BOOST,
    MUTE,
    devices,
    entries,
    post_tags,
    posts,
    reactions,
    relations,
)
from weft.store.statuses import Page, alive_at, beyond, cursor_of, visible_to

__all__ = ["AccountFilters", "TimelineItem", "account_statuses", "has_media"]

# Post content is canonical JSON (sorted keys, no whitespace, quotes inside strings escaped),
# so these bytes occur in a post's content only as its own non-empty "attachments" key.
_ATTACHMENTS = b'"attachments":['
_NO_ATTACHMENTS = b'"attachments":[]'


@dataclass(frozen=True)
class AccountFilters:
    only_media: bool = False
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    tag: str | None = None          # as stored (weft.store.social.normal_tag)

    @property
    def boosts(self) -> bool:
        return not (self.exclude_reblogs or self.only_media or self.tag)


@dataclass(frozen=True)
class TimelineItem:
    """A post of a page, or (``boost`` set) someone's boost of it (also of the home timeline's
    pages, ``weft.store.home_timeline``)."""

    post: int                                  # posts.entry
    boost: tuple[int, int, bytes, int] | None  # (boost row, booster, boost entry id, ts), as Reader.hydrate takes


def has_media(dialect: str) -> ColumnElement[bool]:
    """SQL: the current ``posts`` row carries images (``dialect``: the connection's, by name)."""
    original = entries.alias("original")
    content = original.c.content
    if dialect == "sqlite":  # SQLite's LIKE never matches a BLOB; instr() reads its bytes
        found = and_(func.instr(content, literal(_ATTACHMENTS, LargeBinary)) > 0,
                     func.instr(content, literal(_NO_ATTACHMENTS, LargeBinary)) == 0)
    else:                    # PostgreSQL: bytea LIKE bytea
        like = content.op("LIKE", is_comparison=True)
        found = and_(like(literal(b"%" + _ATTACHMENTS + b"%", LargeBinary)),
                     not_(like(literal(b"%" + _NO_ATTACHMENTS + b"%", LargeBinary))))
    return exists().where(original.c.id == posts.c.entry, found)


def _no_reply_but_to_oneself() -> ColumnElement[bool]:
    parent_entry, parent = entries.alias("parent_entry"), posts.alias("parent")
    own_thread = exists().where(parent_entry.c.entry_id == posts.c.reply_to, parent.c.entry == parent_entry.c.id,
                                parent.c.author == posts.c.author)
    return or_(posts.c.reply_to.is_(None), own_thread)


async def account_statuses(conn: AsyncConnection, viewer: int | None, author: int, page: Page, *, now_ms: int,
                           filters: AccountFilters = AccountFilters()) -> list[TimelineItem]:
    """A page of ``author``'s posts and boosts that ``viewer`` may see, newest first
    (``page``: Mastodon's max_id, since_id, min_id and limit)."""
    if viewer is not None and viewer != author and (await conn.execute(select(relations.c.source).where(
            relations.c.source == author, relations.c.target == viewer, relations.c.kind == BLOCK,
            relations.c.active.is_(True)))).first() is not None:
        return []  # whoever blocks the viewer shows them nothing, boosts included
    limit = max(1, min(page.limit, 80))
    bounds: list[tuple[tuple[int, int], bool]] = []
    if page.max_id is not None:
        bounds.append((await cursor_of(conn, page.max_id), True))
    after = page.min_id if page.min_id is not None else page.since_id
    if after is not None:
        bounds.append((await cursor_of(conn, after), False))
    oldest_first = page.min_id is not None  # the posts just after min_id, not the newest ones

    where = [posts.c.author == author, alive_at(now_ms), visible_to(viewer)]
    if filters.only_media:
        where.append(has_media(conn.dialect.name))
    if filters.exclude_replies:
        where.append(_no_reply_but_to_oneself())
    if filters.tag is not None:
        where.append(posts.c.entry.in_(select(post_tags.c.post).where(post_tags.c.tag == filters.tag)))
    where += [beyond(posts.c.ts, posts.c.entry, cursor, older) for cursor, older in bounds]
    order = (posts.c.ts, posts.c.entry) if oldest_first else (posts.c.ts.desc(), posts.c.entry.desc())
    found: list[tuple[int, int, TimelineItem]] = [
        (ts, row, TimelineItem(row, None))
        for row, ts in (await conn.execute(select(posts.c.entry, posts.c.ts).where(*where)
                                           .order_by(*order).limit(limit))).all()]

    if filters.boosts:
        found += await _boosts(conn, viewer, author, bounds, oldest_first, limit, now_ms)
    found.sort(key=lambda item: (item[0], item[1]), reverse=not oldest_first)
    page_items = [item for _, _, item in found[:limit]]
    return list(reversed(page_items)) if oldest_first else page_items


async def _boosts(conn: AsyncConnection, viewer: int | None, author: int, bounds: list[tuple[tuple[int, int], bool]],
                  oldest_first: bool, limit: int, now_ms: int) -> list[tuple[int, int, TimelineItem]]:
    # A person's entries are found through their devices (an index), not by scanning every reaction.
    boost_entry, target = entries.alias("boost_entry"), entries.alias("target")
    where = [boost_entry.c.device.in_(select(devices.c.id).where(devices.c.identity == author)),
             reactions.c.author == author, reactions.c.kind == BOOST, alive_at(now_ms), visible_to(viewer)]
    if viewer is not None:
        hidden = select(relations.c.target).where(relations.c.source == viewer, relations.c.kind.in_((MUTE, BLOCK)),
                                                  relations.c.active.is_(True))
        where.append(posts.c.author.not_in(hidden))
    where += [beyond(reactions.c.ts, reactions.c.entry, cursor, older) for cursor, older in bounds]
    order = (reactions.c.ts, reactions.c.entry) if oldest_first else (reactions.c.ts.desc(), reactions.c.entry.desc())
    query = (select(reactions.c.entry, reactions.c.ts, boost_entry.c.entry_id, posts.c.entry.label("post"))
             .select_from(boost_entry.join(reactions, reactions.c.entry == boost_entry.c.id)
                          .join(target, target.c.entry_id == reactions.c.target)
                          .join(posts, posts.c.entry == target.c.id))
             .where(*where).order_by(*order).limit(limit))
    return [(ts, row, TimelineItem(post, (row, author, bytes(entry_id), ts)))
            for row, ts, entry_id, post in (await conn.execute(query)).all()]
