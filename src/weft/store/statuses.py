"""Posts as a viewer may see them: who can see what, timelines, pages by status id.

Visibility (docs/decisions/0006-visibility.md): public and unlisted posts are shown to
anyone; a followers-only post to its author, to the identities it mentions, and to those
who follow its author (let in, if the author is locked); a direct post to its author and
the identities it mentions. An author's block hides their posts from whom they block.
Every read of posts for a viewer goes through ``visible_to``; nothing else selects posts
for the server face.

Status ids are what Mastodon clients sort by: ``ts * 65536 + (row % 65536)``, so they
order like the timelines (by time) and stay numbers a client can compare.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import Select, and_, case, exists, func, literal, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from weft.core.ids import entry_id_text
from weft.store.moderation import silenced_identities
from weft.store.schema import (
    BLOCK,
    BOOST,
    FOLLOW,
    LIKE,
    MUTE,
    VISIBILITY_CODES,
    bookmarks,
    entries,
    foreign_origins,
    identities,
    post_mentions,
    post_tags,
    posts,
    reactions,
    relations,
)
from weft.store.social import follows_effectively, let_in

__all__ = ["Page", "StatusRow", "beyond", "cursor_of", "dated_timeline", "seen_by", "status_id", "status_rows",
           "timeline", "viewers_marks", "visible_to"]

PUBLIC, UNLISTED, FOLLOWERS, DIRECT = (VISIBILITY_CODES[name] for name in ("public", "unlisted", "followers", "direct"))
_VISIBILITY_NAMES = {code: name for name, code in VISIBILITY_CODES.items()}
FEED_WINDOW_MS = 60_000


def status_id(ts: int, row: int) -> int:
    return ts * 65536 + row % 65536


@dataclass(frozen=True)
class Page:
    """Mastodon's paging: ``max_id`` (older than), ``since_id`` (newer than, newest first),
    ``min_id`` (newer than, the ones just after it)."""

    limit: int = 20
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None


@dataclass(frozen=True)
class StatusRow:
    """A post as stored, with its current text; None texts when deleted or expired."""

    row: int
    id: int                    # the status id
    entry_id: str
    author: int
    author_did: str
    ts: int
    text: str | None
    summary: str | None
    sensitive: bool
    visibility: str
    reply_to: str | None       # the parent's entry id
    root: str | None
    edited_ts: int | None
    expires: int | None
    likes: int
    boosts: int
    replies: int
    mentions: tuple[str, ...]
    tags: tuple[str, ...]
    attachments: tuple[dict[str, Any], ...]
    lang: str | None
    html: str | None = None    # a Fediverse post's HTML as its server sent it (sanitize before showing)
    url: str | None = None     # a Fediverse post's page on its server
    origin: str | None = None  # a Fediverse post's object IRI (weft.store.foreign)


def _alive(now_ms: int) -> ColumnElement[bool]:
    return and_(posts.c.deleted.is_(False), or_(posts.c.expires.is_(None), posts.c.expires > now_ms))


alive_at = _alive   # SQL: the post is neither deleted nor expired at ``now_ms`` (for weft.store.search)


Viewer = int | ColumnElement[Any] | None
"""Who reads: an identity row, a column of identity rows (to ask for many viewers in one
statement, as live streams do), or None for anyone."""


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """SQL: the current ``posts`` row may be shown to ``viewer`` (an identity row; None: anyone)."""
    public = posts.c.visibility.in_((PUBLIC, UNLISTED))
    if viewer is None:
        return public
    me = viewer if isinstance(viewer, ColumnElement) else literal(viewer)
    mentioned = exists().where(post_mentions.c.post == posts.c.entry, post_mentions.c.identity == me)
    followers = and_(posts.c.visibility == FOLLOWERS, follows_effectively(me, posts.c.author))
    blocked = exists().where(relations.c.source == posts.c.author, relations.c.target == me,
                             relations.c.kind == BLOCK, relations.c.active.is_(True))
    return or_(posts.c.author == me, and_(or_(public, followers, mentioned), not_(blocked)))


def _hidden_authors(viewer: int | ColumnElement[Any]) -> Select[Any]:
    return select(relations.c.target).where(relations.c.source == viewer, relations.c.kind.in_((MUTE, BLOCK)),
                                            relations.c.active.is_(True))


TimelineKind = Literal["home", "public", "local", "tag", "account", "bookmarks", "favourites"]


def _timeline_where(kind: TimelineKind, viewer: Viewer, *, tag: str | None, account: int | None,
                    now_ms: int, alive: bool = True) -> list[ColumnElement[bool]]:
    where = [_alive(now_ms), visible_to(viewer)] if alive else [visible_to(viewer)]
    if kind == "home":
        if viewer is None:
            raise ValueError("the home timeline needs a viewer")
        followed = select(relations.c.target).where(
            relations.c.source == viewer, relations.c.kind == FOLLOW, relations.c.active.is_(True),
            let_in(viewer if isinstance(viewer, ColumnElement) else literal(viewer), relations.c.target))
        where.append(or_(posts.c.author == viewer, posts.c.author.in_(followed)))
    elif kind in ("public", "local", "tag"):
        where.append(posts.c.visibility == PUBLIC)
        if kind == "local":
            where.append(posts.c.author.in_(select(identities.c.id).where(identities.c.local.is_(True))))
        if kind == "tag":
            where.append(posts.c.entry.in_(select(post_tags.c.post).where(post_tags.c.tag == (tag or ""))))
    elif kind == "account":
        where.append(posts.c.author == account)
    elif kind == "bookmarks":
        where.append(posts.c.entry.in_(select(bookmarks.c.post).where(bookmarks.c.account == viewer)))
    elif kind == "favourites":
        liked = select(entries.c.id).join(reactions, reactions.c.target == entries.c.entry_id).where(
            reactions.c.author == viewer, reactions.c.kind == LIKE)
        where.append(posts.c.entry.in_(liked))
    if viewer is not None and kind not in ("account", "bookmarks", "favourites"):
        where.append(or_(posts.c.author == viewer, posts.c.author.not_in(_hidden_authors(viewer))))
    return where


async def cursor_of(conn: AsyncConnection, sid: int) -> tuple[int, int]:
    """(ts, entry row) of the post or boost whose status id is ``sid``: where a page starts.

    Post rows and boost rows are both ``entries.id``, so pages that merge posts and boosts
    order by (ts, row) and either kind of id pages through both. An id of neither (a
    client's guess, a status deleted since) still bounds by its time and low bits.
    """
    ts, low = divmod(sid, 65536)
    for table in (posts, reactions):
        row = (await conn.execute(select(table.c.entry).where(table.c.ts == ts, table.c.entry % 65536 == low)
                                  .limit(1))).scalar()
        if row is not None:
            return ts, row
    return ts, low


def beyond(ts: Any, row: Any, cursor: tuple[int, int], older: bool) -> ColumnElement[bool]:
    """SQL: (``ts``, ``row``) is strictly older (``older``) or newer than ``cursor``."""
    at, entry = cursor
    if older:
        return or_(ts < at, and_(ts == at, row < entry))
    return or_(ts > at, and_(ts == at, row > entry))


async def _newest_at_home(conn: AsyncConnection, viewer: int) -> int | None:
    """The newest post time of the viewer and whom they follow: one index probe per author.

    An upper bound of the home timeline's newest post (it may be hidden or deleted), which
    is all the widening window needs; MAX over the whole timeline's condition would read
    every post of every author followed.
    """
    newest_of = select(func.max(posts.c.ts)).where(posts.c.author == relations.c.target).scalar_subquery()
    followed = (await conn.execute(select(func.max(newest_of)).where(
        relations.c.source == viewer, relations.c.kind == FOLLOW, relations.c.active.is_(True),
        let_in(literal(viewer), relations.c.target)))).scalar()
    own = (await conn.execute(select(func.max(posts.c.ts)).where(posts.c.author == viewer))).scalar()
    found = [ts for ts in (followed, own) if ts is not None]
    return max(found) if found else None


async def timeline(conn: AsyncConnection, kind: TimelineKind, viewer: int | None, page: Page, *, now_ms: int,
                   tag: str | None = None, account: int | None = None, local: bool = False,
                   silenced: Sequence[str] = ()) -> list[int]:
    """Post rows of a timeline page, newest first; ``local``: by this node's own identities only
    (as the ``local`` kind, for any kind: a hashtag's local timeline); ``silenced``: domains
    whose actors' posts stay out of the public and hashtag timelines (server moderation)."""
    return [row for row, _ in await dated_timeline(conn, kind, viewer, page, now_ms=now_ms, tag=tag,
                                                   account=account, local=local, silenced=silenced)]


async def dated_timeline(conn: AsyncConnection, kind: TimelineKind, viewer: int | None, page: Page, *,
                         now_ms: int, tag: str | None = None, account: int | None = None,
                         local: bool = False, silenced: Sequence[str] = ()) -> list[tuple[int, int]]:
    """(post row, ts) of a timeline page, newest first (see ``timeline``).

    Without ``since_id``/``min_id``, it reads a widening window of time that ends at the
    newest matching post (as the CLI feed does): a page of a home timeline of 500 follows
    reads a few hundred index entries, however many posts they have.
    """
    where = _timeline_where(kind, viewer, tag=tag, account=account, now_ms=now_ms)
    if local:
        where.append(posts.c.author.in_(select(identities.c.id).where(identities.c.local.is_(True))))
    hidden = silenced_identities(silenced) if kind in ("public", "tag") else None
    if hidden is not None:
        where.append(posts.c.author.not_in(hidden))
    before: tuple[int, int] | None = None
    if page.max_id is not None:
        before = await cursor_of(conn, page.max_id)
        where.append(beyond(posts.c.ts, posts.c.entry, before, older=True))
    limit = max(1, min(page.limit, 80))
    pick = select(posts.c.entry, posts.c.ts)
    newest_first = (posts.c.ts.desc(), posts.c.entry.desc())
    if page.min_id is not None:
        where.append(beyond(posts.c.ts, posts.c.entry, await cursor_of(conn, page.min_id), older=False))
        rows = (await conn.execute(pick.where(*where).order_by(posts.c.ts, posts.c.entry).limit(limit))).all()
        return [(row, ts) for row, ts in reversed(rows)]
    if page.since_id is not None:
        where.append(beyond(posts.c.ts, posts.c.entry, await cursor_of(conn, page.since_id), older=False))
        return [(row, ts) for row, ts in (await conn.execute(pick.where(*where).order_by(*newest_first)
                                                               .limit(limit))).all()]
    if kind == "home" and viewer is not None:
        # An older page starts at its cursor's time: MAX under it would read all posts before.
        newest = await _newest_at_home(conn, viewer)
        if newest is not None and before is not None:
            newest = min(newest, before[0])
    else:
        newest = (await conn.execute(select(func.max(posts.c.ts)).where(*where))).scalar()
    if newest is None:
        return []
    window = FEED_WINDOW_MS
    while True:
        lower = newest - window
        rows = (await conn.execute(pick.where(*where, posts.c.ts > lower).order_by(*newest_first)
                                   .limit(limit))).all()
        if len(rows) == limit or lower < 0:
            return [(row, ts) for row, ts in rows]
        window *= 16


def _count(kind: int) -> Any:
    return (select(func.count()).select_from(reactions)
            .where(reactions.c.target == entries.c.entry_id, reactions.c.kind == kind).scalar_subquery())


def _replies() -> Any:
    child = posts.alias("child")
    return (select(func.count()).select_from(child)
            .where(child.c.reply_to == entries.c.entry_id, child.c.deleted.is_(False)).scalar_subquery())


async def status_rows(conn: AsyncConnection, rows: list[int], *, now_ms: int) -> dict[int, StatusRow]:
    """The posts ``rows`` (posts.entry) as StatusRows. Callers have checked visibility."""
    if not rows:
        return {}
    text_entry = entries.alias("text_entry")
    query = (
        select(posts.c.entry.label("row"), posts.c.author, entries.c.entry_id, identities.c.did, posts.c.ts,
               text_entry.c.content, posts.c.reply_to, posts.c.root, posts.c.visibility, posts.c.edited_ts,
               posts.c.deleted, posts.c.expires, _count(LIKE).label("likes"), _count(BOOST).label("boosts"),
               _replies().label("replies"),
               case((posts.c.text_entry != posts.c.entry, entries.c.content)).label("original"),
               foreign_origins.c.origin)
        .select_from(posts)
        .join(entries, entries.c.id == posts.c.entry)
        .outerjoin(foreign_origins, foreign_origins.c.entry == posts.c.entry)
        .join(text_entry, text_entry.c.id == posts.c.text_entry)
        .join(identities, identities.c.id == posts.c.author)
        .where(posts.c.entry.in_(rows)))
    found: dict[int, StatusRow] = {}
    for row in (await conn.execute(query)).all():
        content = orjson.loads(row.content) if row.content else {}
        gone = bool(row.deleted) or (row.expires is not None and row.expires <= now_ms) or not content
        original = orjson.loads(row.original) if row.original else content
        if gone:
            content, original = {}, {}
        found[row.row] = StatusRow(
            row=row.row, id=status_id(row.ts, row.row), entry_id=entry_id_text(row.entry_id), author=row.author,
            author_did=row.did, ts=row.ts, text=content.get("text") if not gone else None,
            summary=content.get("summary"), sensitive=bool(content.get("sensitive", original.get("sensitive"))),
            visibility=_VISIBILITY_NAMES.get(row.visibility, "public"),
            reply_to=entry_id_text(row.reply_to) if row.reply_to else None,
            root=entry_id_text(row.root) if row.root else None, edited_ts=row.edited_ts, expires=row.expires,
            likes=row.likes, boosts=row.boosts, replies=row.replies,
            mentions=tuple(original.get("mentions", ())), tags=tuple(original.get("tags", ())),
            attachments=tuple(a if isinstance(a, dict) else {"blob": a} for a in original.get("attachments", ())),
            lang=original.get("lang"), html=content.get("html") if not gone else None,
            url=original.get("url"), origin=row.origin)
    return found


async def visible_rows(conn: AsyncConnection, rows: list[int], viewer: int | None, *, now_ms: int) -> set[int]:
    """Which of ``rows`` the viewer may see (deleted and expired ones are not seen)."""
    if not rows:
        return set()
    result = await conn.execute(select(posts.c.entry).where(posts.c.entry.in_(rows), _alive(now_ms),
                                                            visible_to(viewer)))
    return {row for (row,) in result.all()}


async def seen_by(conn: AsyncConnection, rows: Collection[int], viewers: Collection[int], *, now_ms: int,
                  kind: TimelineKind | None = None, tag: str | None = None,
                  alive: bool = True) -> set[tuple[int, int]]:
    """(viewer, row) pairs: which of ``rows`` each of ``viewers`` (identity rows) has in its
    timeline ``kind`` (None: may see at all), in one statement for them all.

    The rule is the timelines' own (``visible_to``, mutes and blocks). With ``alive=False``
    deleted and expired posts count as they stood, so that the news of a delete reaches
    those who saw the post.
    """
    if not rows or not viewers:
        return set()
    viewer = identities.alias("viewer")
    where = (_timeline_where(kind, viewer.c.id, tag=tag, account=None, now_ms=now_ms, alive=alive)
             if kind is not None else [*([_alive(now_ms)] if alive else []), visible_to(viewer.c.id)])
    query = (select(viewer.c.id, posts.c.entry).select_from(posts.join(viewer, true()))
             .where(viewer.c.id.in_(sorted(set(viewers))), posts.c.entry.in_(sorted(set(rows))), *where))
    return {(who, row) for who, row in (await conn.execute(query)).all()}


async def viewers_marks(conn: AsyncConnection, viewers: Collection[int],
                        rows: Collection[int]) -> dict[int, dict[str, set[int]]]:
    """``viewer_marks`` of many viewers (identity rows, which key bookmarks too) at once."""
    marks: dict[int, dict[str, set[int]]] = {
        who: {"favourited": set(), "reblogged": set(), "bookmarked": set()} for who in viewers}
    if not rows or not viewers:
        return marks
    wanted, who_is = sorted(set(rows)), sorted(set(viewers))
    reacted = await conn.execute(
        select(reactions.c.author, entries.c.id, reactions.c.kind)
        .join(reactions, reactions.c.target == entries.c.entry_id)
        .where(entries.c.id.in_(wanted), reactions.c.author.in_(who_is)))
    for who, row, kind in reacted.all():
        marks[who]["favourited" if kind == LIKE else "reblogged"].add(row)
    saved = await conn.execute(select(bookmarks.c.account, bookmarks.c.post).where(
        bookmarks.c.account.in_(who_is), bookmarks.c.post.in_(wanted)))
    for who, row in saved.all():
        marks[who]["bookmarked"].add(row)
    return marks


async def row_of_status(conn: AsyncConnection, sid: int) -> int | None:
    ts, low = divmod(sid, 65536)
    return (await conn.execute(select(posts.c.entry).where(posts.c.ts == ts, posts.c.entry % 65536 == low)
                               .limit(1))).scalar()


async def row_of_entry(conn: AsyncConnection, entry_id: bytes) -> int | None:
    return (await conn.execute(select(posts.c.entry).join(entries, entries.c.id == posts.c.entry)
                               .where(entries.c.entry_id == entry_id))).scalar()
