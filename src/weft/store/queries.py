"""Read queries: the feed, threads, single entries, profiles. No writes here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from weft.core.encoding import b32
from weft.core.ids import entry_id_text, parse_entry_id
from weft.errors import NotFound, UsageError
from weft.store.schema import (
    BLOCK,
    BOOST,
    FOLLOW,
    LIKE,
    MUTE,
    VISIBILITY_CODES,
    accounts,
    devices,
    edits,
    entries,
    identities,
    posts,
    profiles,
    reactions,
    relations,
)

__all__ = ["PostView", "entry_detail", "feed", "history", "profile_of", "resolve_entry_id", "thread"]

_VISIBILITY_NAMES = {code: name for name, code in VISIBILITY_CODES.items()}
_TO_INT_DIGITS = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv")


@dataclass(frozen=True)
class PostView:
    """A post as people see it: current text, who wrote it, counts."""

    id: str
    author: str
    author_name: str | None
    ts: int
    text: str | None
    summary: str | None
    reply_to: str | None
    root: str | None
    visibility: str
    edited_ts: int | None
    deleted: bool
    expires: int | None
    likes: int
    boosts: int
    mentions: tuple[str, ...]
    tags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "author": self.author, "author_name": self.author_name, "ts": self.ts,
            "text": self.text, "summary": self.summary, "reply_to": self.reply_to, "root": self.root,
            "visibility": self.visibility, "edited_ts": self.edited_ts, "deleted": self.deleted,
            "expires": self.expires, "likes": self.likes, "boosts": self.boosts,
            "mentions": list(self.mentions), "tags": list(self.tags),
        }


def _count(kind: int) -> Any:
    return (select(func.count()).select_from(reactions)
            .where(reactions.c.target == entries.c.entry_id, reactions.c.kind == kind)
            .scalar_subquery())


def _post_select() -> Select[Any]:
    text_entry = entries.alias("text_entry")
    profile_entry = entries.alias("profile_entry")
    return (
        select(entries.c.entry_id, identities.c.did, posts.c.ts, text_entry.c.content,
               posts.c.reply_to, posts.c.root, posts.c.visibility, posts.c.edited_ts, posts.c.deleted,
               posts.c.expires, _count(LIKE).label("likes"), _count(BOOST).label("boosts"),
               profile_entry.c.content.label("profile"),
               # An edit carries text and summary only: mentions and tags stay the original's.
               case((posts.c.text_entry != posts.c.entry, entries.c.content)).label("original"))
        .select_from(posts)
        .join(entries, entries.c.id == posts.c.entry)
        .join(text_entry, text_entry.c.id == posts.c.text_entry)
        .join(identities, identities.c.id == posts.c.author)
        .outerjoin(profiles, profiles.c.identity == posts.c.author)
        .outerjoin(profile_entry, profile_entry.c.id == profiles.c.entry)
    )


def _to_view(row: Any, now_ms: int) -> PostView:
    content = orjson.loads(row.content) if row.content else {}
    profile = orjson.loads(row.profile) if row.profile else {}
    gone = bool(row.deleted) or (row.expires is not None and row.expires <= now_ms) or not content
    original = orjson.loads(row.original) if row.original else content
    return PostView(
        id=entry_id_text(row.entry_id), author=row.did, author_name=profile.get("name"), ts=row.ts,
        text=None if gone else content.get("text"), summary=None if gone else content.get("summary"),
        reply_to=entry_id_text(row.reply_to) if row.reply_to else None,
        root=entry_id_text(row.root) if row.root else None,
        visibility=_VISIBILITY_NAMES.get(row.visibility, "public"), edited_ts=row.edited_ts,
        deleted=gone, expires=row.expires, likes=row.likes, boosts=row.boosts,
        mentions=tuple(original.get("mentions", ())) if not gone else (),
        tags=tuple(original.get("tags", ())) if not gone else (),
    )


def _visible(now_ms: int) -> ColumnElement[bool]:
    return and_(posts.c.deleted.is_(False), or_(posts.c.expires.is_(None), posts.c.expires > now_ms))


# The first window of time searched for a feed page, before the newest post shown; widened
# sixteenfold until a page is full or the window reaches back to the epoch (at most 9 steps).
# Small, because a busy feed (500 follows posting once a minute) fills a page in seconds,
# and all of a window is read and sorted; a quiet one pays a few cheap index probes.
FEED_WINDOW_MS = 60_000


def _feed_authors(viewer: int) -> Select[Any]:
    """The viewer and whom it follows, less whom it mutes or blocks: whose posts a feed shows."""
    followed = select(relations.c.target.label("author")).where(
        relations.c.source == viewer, relations.c.kind == FOLLOW, relations.c.active.is_(True))
    hidden = select(relations.c.target).where(
        relations.c.source == viewer, relations.c.kind.in_((MUTE, BLOCK)), relations.c.active.is_(True))
    everyone = followed.union_all(select(literal(viewer).label("author"))).subquery()
    return select(everyone.c.author).where(everyone.c.author.not_in(hidden))


async def _newest_posts(conn: AsyncConnection, shown: Select[Any], cursor: tuple[int, int] | None,
                        count: int, now_ms: int) -> list[tuple[int, int]]:
    """(row id, ts) of the ``count`` newest visible posts of ``shown`` before ``cursor``.

    Asked plainly, the database gathers every post of every followed author and sorts them
    (90k rows for 500 follows). Asked for a window of time ending at the newest such post,
    it reads only that window from the (author, ts) index of each author: about a
    millisecond for a page, however much history the authors have.
    """
    where = [posts.c.author.in_(shown), _visible(now_ms)]
    if cursor is not None:
        where.append(or_(posts.c.ts < cursor[0], and_(posts.c.ts == cursor[0], posts.c.entry < cursor[1])))
    newest = (await conn.execute(select(func.max(posts.c.ts)).where(*where))).scalar()
    if newest is None:
        return []
    window = FEED_WINDOW_MS
    while True:
        lower = newest - window
        rows = (await conn.execute(
            select(posts.c.entry, posts.c.ts).where(*where, posts.c.ts > lower)
            .order_by(posts.c.ts.desc(), posts.c.entry.desc()).limit(count))).all()
        if len(rows) == count or lower < 0:
            return [(entry, ts) for entry, ts in rows]
        window *= 16


async def feed(conn: AsyncConnection, viewer: int, *, limit: int = 40, before_ts: int | None = None,
               now_ms: int) -> list[PostView]:
    """The viewer's own posts and those of identities it follows, newest first.

    Edits applied, deleted and expired posts left out, muted and blocked authors
    left out, direct posts only for their author and the identities they mention.
    """
    shown = _feed_authors(viewer)
    viewer_did: str | None = None  # looked up only if a direct post needs it
    views: list[PostView] = []
    cursor = None if before_ts is None else (before_ts, -1)
    while len(views) < limit:
        wanted = limit - len(views)
        chosen = await _newest_posts(conn, shown, cursor, wanted, now_ms)
        if not chosen:
            break
        rows = (await conn.execute(_post_select().where(posts.c.entry.in_([entry for entry, _ in chosen]))
                                   .order_by(posts.c.ts.desc(), posts.c.entry.desc()))).all()
        for row in rows:
            view = _to_view(row, now_ms)
            if view.visibility == "direct":
                if viewer_did is None:
                    viewer_did = (await conn.execute(
                        select(identities.c.did).where(identities.c.id == viewer))).scalar_one()
                if view.author != viewer_did and viewer_did not in view.mentions:
                    continue
            views.append(view)
        if len(chosen) < wanted:
            break
        cursor = (chosen[-1][1], chosen[-1][0])
    return views


async def resolve_entry_id(conn: AsyncConnection, text: str) -> bytes:
    """The full id of an entry named by its id or a unique prefix of at least 6 characters."""
    text = text.strip().lower()
    if len(text) < 6 or any(c not in "abcdefghijklmnopqrstuvwxyz234567" for c in text):
        raise UsageError(f"{text[:60]!r} is not an entry id (base32, at least 6 characters)")
    whole = len(text) * 5 // 8
    value = int(text.translate(_TO_INT_DIGITS), 32) >> (len(text) * 5 - whole * 8)
    low = value.to_bytes(whole, "big")
    query = select(entries.c.entry_id).where(entries.c.entry_id >= low).order_by(entries.c.entry_id).limit(50)
    candidates = [eid for (eid,) in (await conn.execute(query)).all() if b32(eid).startswith(text)]
    if not candidates:
        raise NotFound(f"no entry {text!r} on this node")
    if len(candidates) > 1:
        raise UsageError(f"{text!r} names {len(candidates)} entries; give more characters")
    found: bytes = candidates[0]
    return found


async def _post(conn: AsyncConnection, entry_id: bytes, now_ms: int) -> PostView | None:
    row = (await conn.execute(_post_select().where(entries.c.entry_id == entry_id))).first()
    return None if row is None else _to_view(row, now_ms)


async def thread(conn: AsyncConnection, entry_id: bytes, *, now_ms: int) -> list[tuple[int, PostView]]:
    """The whole conversation a post belongs to, as (depth, post) in reading order."""
    post = await _post(conn, entry_id, now_ms)
    if post is None:
        raise NotFound(f"no post {entry_id_text(entry_id)} on this node")
    root = bytes(entry_id) if post.root is None else parse_entry_id(post.root)
    rows = (await conn.execute(_post_select().where(or_(posts.c.root == root, entries.c.entry_id == root))
                               .order_by(posts.c.ts, posts.c.entry))).all()
    views = [_to_view(row, now_ms) for row in rows]
    children: dict[str | None, list[PostView]] = {}
    ids = {view.id for view in views}
    for view in views:
        parent = view.reply_to if view.reply_to in ids else None
        if view.id == entry_id_text(root):
            parent = "__root__"
        children.setdefault(parent, []).append(view)
    ordered: list[tuple[int, PostView]] = []

    def walk(view: PostView, depth: int) -> None:
        ordered.append((depth, view))
        for child in children.get(view.id, []):
            walk(child, depth + 1)

    for top in children.get("__root__", []) + children.get(None, []):
        walk(top, 0)
    return ordered


async def entry_detail(conn: AsyncConnection, entry_id: bytes, *, now_ms: int) -> dict[str, Any]:
    """Everything held about one entry: header, content (if held), post view, edit history."""
    row = (await conn.execute(select(entries.c.header, entries.c.content, entries.c.id)
                              .where(entries.c.entry_id == entry_id))).first()
    if row is None:
        raise NotFound(f"no entry {entry_id_text(entry_id)} on this node")
    header = orjson.loads(row.header)
    # Until upkeep drops it, an expired entry's content is still stored: never show it.
    expired = isinstance(header.get("expires"), int) and header["expires"] <= now_ms
    detail: dict[str, Any] = {
        "id": entry_id_text(entry_id),
        "header": header,
        "content": orjson.loads(row.content) if row.content is not None and not expired else None,
    }
    post = await _post(conn, entry_id, now_ms)
    if post is not None:
        detail["post"] = post.to_json()
        versions = await history(conn, entry_id)
        detail["history"] = [{**version, "text": None} for version in versions] if expired else versions
    return detail


async def history(conn: AsyncConnection, entry_id: bytes, *, warnings: bool = False) -> list[dict[str, Any]]:
    """A post's versions, oldest first: the original and each edit by its author still held.

    With ``warnings``, each version also has its ``summary`` (content warning, or None) and
    ``sensitive``, as an edit sets them (an edit that does not say keeps the original's).
    """
    original = (await conn.execute(select(entries.c.ts, entries.c.content, entries.c.author)
                                   .where(entries.c.entry_id == entry_id))).first()
    if original is None:
        return []
    rows = (await conn.execute(
        select(entries.c.entry_id, entries.c.ts, entries.c.content)
        .join(edits, edits.c.entry == entries.c.id)
        .where(edits.c.target == entry_id, edits.c.author == original.author)
        .order_by(entries.c.ts, entries.c.id))).all()
    versions = [{"id": entry_id_text(entry_id), "ts": original.ts,
                 "text": orjson.loads(original.content).get("text") if original.content else None}]
    versions += [{"id": entry_id_text(eid), "ts": ts, "text": orjson.loads(c).get("text") if c else None}
                 for eid, ts, c in rows]
    if warnings:
        first = orjson.loads(original.content) if original.content else {}
        for version, content in zip(versions, [original.content, *(c for _, _, c in rows)], strict=True):
            data = orjson.loads(content) if content else {}
            version["summary"] = data.get("summary") if isinstance(data.get("summary"), str) else None
            version["sensitive"] = bool(data.get("sensitive", first.get("sensitive", False)))
    return versions


async def profile_of(conn: AsyncConnection, did: str) -> dict[str, Any]:
    row = (await conn.execute(
        select(identities.c.id, entries.c.content)
        .select_from(identities)
        .outerjoin(profiles, profiles.c.identity == identities.c.id)
        .outerjoin(entries, entries.c.id == profiles.c.entry)
        .where(identities.c.did == did))).first()
    if row is None:
        raise NotFound(f"this node holds nothing of {did}")
    profile = orjson.loads(row.content) if row.content else {}
    counts = {}
    for name, condition in (("following", relations.c.source == row.id), ("followers", relations.c.target == row.id)):
        counts[name] = (await conn.execute(select(func.count()).select_from(relations).where(
            condition, relations.c.kind == FOLLOW, relations.c.active.is_(True)))).scalar_one()
    posts_count = (await conn.execute(select(func.count()).select_from(posts).where(
        posts.c.author == row.id, posts.c.deleted.is_(False)))).scalar_one()
    return {"did": did, "profile": profile, "posts": posts_count, **counts}


async def relations_of(conn: AsyncConnection, source: int, kind: int) -> list[str]:
    rows = await conn.execute(select(identities.c.did).join(relations, relations.c.target == identities.c.id)
                              .where(relations.c.source == source, relations.c.kind == kind,
                                     relations.c.active.is_(True)).order_by(identities.c.did))
    return [did for (did,) in rows.all()]


async def device_logs(conn: AsyncConnection, identity: int) -> list[dict[str, Any]]:
    rows = await conn.execute(select(devices.c.key, devices.c.head_seq, devices.c.forked)
                              .where(devices.c.identity == identity).order_by(devices.c.id))
    return [{"device": key, "head_seq": seq, "forked": bool(forked)} for key, seq, forked in rows.all()]


async def blocked_by_local(conn: AsyncConnection, did: str) -> bool:
    """Whether an identity of this node (``local``, not a hosted account) blocks ``did``: its entries
    are refused here (a hosted account's block hides them from that account alone)."""
    source, target = identities.alias("source"), identities.alias("target")
    row = await conn.execute(
        select(relations.c.source)
        .join(source, source.c.id == relations.c.source)
        .join(target, target.c.id == relations.c.target)
        .where(source.c.local.is_(True), source.c.id.not_in(select(accounts.c.identity)), target.c.did == did,
               relations.c.kind == BLOCK,
               relations.c.active.is_(True))
        .limit(1))
    return row.first() is not None
