"""The server face's views, folded with the rest: hashtags, mentions, follow grants, notifications.

Called by ``views.fold`` in the same transaction. Tags and mentions index posts for
tag timelines, search and visibility ("direct" and "followers" posts are shown to the
identities they mention). Notifications are written only for local identities (the
accounts this node hosts and its own), when the entry that causes one arrives: a reply
that arrives before its parent notifies no one, which is what a person who was offline
would expect of a post they never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.content import FOLLOW_ANSWER_TYPES
from weft.core.ids import parse_entry_id
from weft.store.identities import ensure_identities
from weft.store.schema import (
    FAVOURITE,
    FOLLOW,
    FOLLOW_REQUEST,
    FOLLOWED,
    MENTION,
    REBLOG,
    REPLY,
    entries,
    follow_grants,
    notifications,
    post_mentions,
    post_tags,
    posts,
    profiles,
    relations,
)
from weft.store.search_index import unindex_posts
from weft.store.sql import insert_ignoring, upsert

__all__ = ["fold_social", "follows_effectively", "forget_posts", "let_in", "normal_tag"]

MAX_TAG_CHARS = 100


def normal_tag(tag: str) -> str | None:
    """A tag as stored: without '#', lowercased; None if it is not a usable tag."""
    tag = tag.lstrip("#").strip().lower()
    # Control characters (NUL above all, which PostgreSQL text cannot hold) make no tag: a
    # peer's post carrying one must not fail the batch it arrives in.
    if any(char < " " or char == "\x7f" for char in tag):
        return None
    return tag if 0 < len(tag) <= MAX_TAG_CHARS and not tag.isdigit() else None


async def _post_authors(conn: AsyncConnection, entry_ids: Sequence[bytes]) -> dict[bytes, tuple[int, int]]:
    """entry id -> (post row, author) of the posts among ``entry_ids`` that this node holds."""
    found: dict[bytes, tuple[int, int]] = {}
    unique = list(dict.fromkeys(entry_ids))
    for start in range(0, len(unique), 500):
        rows = await conn.execute(
            select(entries.c.entry_id, posts.c.entry, posts.c.author)
            .join(posts, posts.c.entry == entries.c.id)
            .where(entries.c.entry_id.in_(unique[start:start + 500])))
        found.update({bytes(entry_id): (row, author) for entry_id, row, author in rows.all()})
    return found


async def _locked_without_grant(conn: AsyncConnection, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (followed, follower) pairs among ``pairs`` where the followed is locked and has not granted."""
    if not pairs:
        return set()
    followed = sorted({target for target, _ in pairs})
    locked = {row for (row,) in (await conn.execute(
        select(profiles.c.identity).where(profiles.c.identity.in_(followed), profiles.c.locked.is_(True)))).all()}
    waiting = {pair for pair in pairs if pair[0] in locked}
    if not waiting:
        return set()
    granted = {(source, target) for source, target in (await conn.execute(
        select(follow_grants.c.source, follow_grants.c.target).where(
            follow_grants.c.source.in_(sorted(locked)), follow_grants.c.active.is_(True)))).all()}
    return waiting - granted


async def fold_social(conn: AsyncConnection, new_posts: Sequence[Any], others: Sequence[Any],
                      local_ids: set[int]) -> None:
    """Index ``new_posts`` (views.Folding of posts) and fold ``others``' answers and notifications.

    ``others`` are the batch's likes, boosts, follows and follow answers.
    """
    tag_rows: list[dict[str, Any]] = []
    mention_dids: dict[int, list[str]] = {}
    for item in new_posts:
        for tag in {t for t in (normal_tag(raw) for raw in item.content.get("tags", ())) if t}:
            tag_rows.append({"tag": tag, "post": item.row_id, "ts": item.entry.ts})
        if item.content.get("mentions"):
            mention_dids[item.row_id] = list(dict.fromkeys(item.content["mentions"]))
    if tag_rows:
        await conn.execute(insert_ignoring(conn, post_tags, "tag", "post"), tag_rows)
    notes: list[dict[str, Any]] = []
    ids: dict[str, int] = {}   # the row of every DID the batch mentions, read once for all its posts
    if mention_dids:
        ids = await ensure_identities(conn, {did for dids in mention_dids.values() for did in dids})
        await conn.execute(insert_ignoring(conn, post_mentions, "identity", "post"), [
            {"identity": ids[did], "post": row} for row, dids in mention_dids.items() for did in dids])
    parents = await _post_authors(conn, [parse_entry_id(item.content["reply_to"])
                                         for item in new_posts if "reply_to" in item.content])
    for item in new_posts:
        replied = parents.get(parse_entry_id(item.content["reply_to"])) if "reply_to" in item.content else None
        told: set[int] = set()
        if replied is not None and replied[1] in local_ids and replied[1] != item.author_id:
            told.add(replied[1])
            notes.append(_note(replied[1], REPLY, item, item.row_id))
        if item.row_id in mention_dids:
            for did in mention_dids[item.row_id]:
                if ids[did] in local_ids and ids[did] != item.author_id and ids[did] not in told:
                    told.add(ids[did])
                    notes.append(_note(ids[did], MENTION, item, item.row_id))
    notes.extend(await _reaction_and_follow_notes(conn, others, local_ids))
    if notes:
        await conn.execute(insert_ignoring(conn, notifications, "identity", "kind", "entry"), notes)


def _note(recipient: int, kind: int, item: Any, post: int | None) -> dict[str, Any]:
    return {"identity": recipient, "kind": kind, "actor": item.author_id, "entry": item.row_id,
            "post": post, "ts": item.entry.ts}


async def _reaction_and_follow_notes(conn: AsyncConnection, others: Sequence[Any],
                                     local_ids: set[int]) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    reactions = [item for item in others if item.content["type"] in ("like", "boost")]
    targets = await _post_authors(conn, [parse_entry_id(item.content["target"]) for item in reactions])
    for item in reactions:
        found = targets.get(parse_entry_id(item.content["target"]))
        if found is not None and found[1] in local_ids and found[1] != item.author_id:
            kind = FAVOURITE if item.content["type"] == "like" else REBLOG
            notes.append(_note(found[1], kind, item, found[0]))
    answers = [item for item in others if item.content["type"] in FOLLOW_ANSWER_TYPES]
    if answers:
        ids = await ensure_identities(conn, [item.content["target"] for item in answers])
        await conn.execute(
            upsert(conn, follow_grants, ["source", "target"], ["active", "ts", "entry"], newer_than="ts"),
            [{"source": item.author_id, "target": ids[item.content["target"]],
              "active": FOLLOW_ANSWER_TYPES[item.content["type"]], "ts": item.entry.ts, "entry": item.row_id}
             for item in answers if ids[item.content["target"]] != item.author_id])
    follows = [item for item in others if item.content["type"] == "follow"]
    if follows:
        ids = await ensure_identities(conn, [item.content["target"] for item in follows])
        pairs = {(ids[item.content["target"]], item.author_id) for item in follows}
        waiting = await _locked_without_grant(conn, pairs)
        for item in follows:
            target = ids[item.content["target"]]
            if target in local_ids and target != item.author_id:
                kind = FOLLOW_REQUEST if (target, item.author_id) in waiting else FOLLOWED
                notes.append(_note(target, kind, item, None))
    return notes


async def forget_posts(conn: AsyncConnection, post_rows: Sequence[int]) -> None:
    """Drop what the server face keeps about posts that were deleted, expired or purged
    (their tags, mentions, notifications and words in the search index)."""
    rows = list(post_rows)
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        await conn.execute(delete(post_tags).where(post_tags.c.post.in_(chunk)))
        await conn.execute(delete(post_mentions).where(post_mentions.c.post.in_(chunk)))
        await conn.execute(delete(notifications).where(
            or_(notifications.c.post.in_(chunk), notifications.c.entry.in_(chunk))))
        await unindex_posts(conn, chunk)


def follows_effectively(follower: Any, followed: Any) -> Any:
    """SQL: ``follower`` follows ``followed``, was not turned away since (a ``follow_reject``
    newer than the follow: a locked identity's "no", or anyone's "remove from followers"),
    and, if ``followed`` is locked, was let in.

    Both arguments are SQL expressions for identity rows (columns or literals).
    """
    edge = relations.alias("follow_edge")
    turned_away = select(follow_grants.c.source).where(
        follow_grants.c.source == followed, follow_grants.c.target == follower, follow_grants.c.active.is_(False),
        follow_grants.c.ts >= edge.c.ts).correlate_except(follow_grants)
    following = select(edge.c.source).where(
        edge.c.source == follower, edge.c.target == followed, edge.c.kind == FOLLOW, edge.c.active.is_(True),
        ~turned_away.exists()).correlate_except(edge)
    return and_(following.exists(), let_in(follower, followed))


def let_in(follower: Any, followed: Any) -> Any:
    """SQL: ``followed`` lets ``follower``'s follow count: it waits for no answer (neither a
    locked account nor a Fediverse actor: weft.store.views folds both as ``locked``), or it
    let them in. What the home timeline asks of each follow, beside its being active."""
    locked = select(profiles.c.identity).where(profiles.c.identity == followed, profiles.c.locked.is_(True))
    granted = select(follow_grants.c.source).where(
        follow_grants.c.source == followed, follow_grants.c.target == follower, follow_grants.c.active.is_(True))
    return or_(~locked.exists(), granted.exists())
