"""Folding entries into views: posts with edits applied, reactions, relations, profiles.

Fold rules (docs/protocol/views.md): only an entry's own
author (any of its devices) can edit or delete it; the newest edit by entry
timestamp wins, ties broken by arrival; a delete removes the content of the
target and of every edit of it; relations and profiles keep the newest state by
timestamp. Entries may arrive in any order across devices, so a delete or an
edit may come before its target: both are remembered and applied on arrival.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.content import RELATION_TYPES
from weft.core.entry import Entry
from weft.core.ids import parse_entry_id
from weft.store.entries import drop_content, entries_by_ids
from weft.store.identities import ensure_identities
from weft.store.schema import (
    BLOCK,
    BOOST,
    LIKE,
    RELATION_CODES,
    VISIBILITY_CODES,
    deletions,
    devices,
    edits,
    entries,
    posts,
    profiles,
    reactions,
    relations,
)
from weft.store.sql import insert_ignoring, upsert

__all__ = [
    "FoldOutcome",
    "Folding",
    "apply_delete",
    "expired_posts",
    "fold",
    "purge_devices",
    "purge_entries",
    "purge_identity",
]


@dataclass(frozen=True)
class Folding:
    """An accepted entry whose content is present, ready to fold."""

    row_id: int
    entry: Entry
    author_id: int
    content: dict[str, Any]


@dataclass
class FoldOutcome:
    """What a fold changed that the caller must act on."""

    content_removed: bool = False
    blocked: set[int] = field(default_factory=set)
    unblocked: set[int] = field(default_factory=set)


def _post_row(item: Folding) -> dict[str, Any]:
    content = item.content
    reply_to = parse_entry_id(content["reply_to"]) if "reply_to" in content else None
    root = parse_entry_id(content["root"]) if "root" in content else reply_to
    return {
        "entry": item.row_id, "author": item.author_id, "ts": item.entry.ts, "reply_to": reply_to,
        "root": root, "visibility": VISIBILITY_CODES[content.get("visibility", "public")],
        "text_entry": item.row_id, "edited_ts": None, "deleted": False, "expires": item.entry.expires,
    }


async def refresh_post_text(conn: AsyncConnection, post_rows: dict[bytes, tuple[int, int]]) -> None:
    """Point each post (entry id -> (row id, author)) at its newest edit by its own author."""
    targets = list(post_rows)
    for start in range(0, len(targets), 500):
        chunk = targets[start:start + 500]
        rows = (await conn.execute(
            select(edits.c.target, edits.c.entry, edits.c.ts, edits.c.author)
            .where(edits.c.target.in_(chunk)).order_by(edits.c.ts, edits.c.entry))).all()
        newest: dict[bytes, tuple[int, int]] = {}
        for target, edit_row, ts, author in rows:
            if post_rows[target][1] == author:
                newest[target] = (edit_row, ts)
        for target in chunk:
            post_row = post_rows[target][0]
            edit_row, ts = newest.get(target, (post_row, None))
            await conn.execute(update(posts).where(posts.c.entry == post_row, posts.c.deleted.is_(False))
                               .values(text_entry=edit_row, edited_ts=ts))


async def apply_delete(conn: AsyncConnection, target_row: int, target_id: bytes) -> None:
    """Remove the content of ``target_row`` and whatever it contributed to views."""
    await drop_content(conn, [target_row])
    post = (await conn.execute(select(posts.c.author).where(posts.c.entry == target_row))).first()
    if post is not None:
        await conn.execute(update(posts).where(posts.c.entry == target_row)
                           .values(deleted=True, text_entry=target_row))
        edit_rows = (await conn.execute(select(edits.c.entry).where(edits.c.target == target_id))).all()
        await drop_content(conn, [row for (row,) in edit_rows])
    await conn.execute(delete(reactions).where(reactions.c.entry == target_row))
    edit = (await conn.execute(select(edits.c.target).where(edits.c.entry == target_row))).first()
    if edit is not None:
        await conn.execute(delete(edits).where(edits.c.entry == target_row))
        found = await entries_by_ids(conn, [edit[0]])
        if edit[0] in found:
            await refresh_post_text(conn, {edit[0]: found[edit[0]]})


async def _fold_edit(conn: AsyncConnection, item: Folding) -> bool:
    target_id = parse_entry_id(item.content["target"])
    await conn.execute(edits.insert().values(entry=item.row_id, target=target_id,
                                             author=item.author_id, ts=item.entry.ts))
    found = await entries_by_ids(conn, [target_id])
    if target_id not in found:
        return False
    deleted = (await conn.execute(select(posts.c.deleted).where(posts.c.entry == found[target_id][0]))).first()
    if deleted is not None and deleted[0] and found[target_id][1] == item.author_id:
        await drop_content(conn, [item.row_id])
        return True
    await refresh_post_text(conn, {target_id: found[target_id]})
    return False


async def _fold_delete(conn: AsyncConnection, item: Folding) -> bool:
    target_id = parse_entry_id(item.content["target"])
    await conn.execute(insert_ignoring(conn, deletions, "target"),
                       [{"target": target_id, "author": item.author_id, "entry": item.row_id}])
    found = await entries_by_ids(conn, [target_id])
    if target_id in found and found[target_id][1] == item.author_id:
        await apply_delete(conn, found[target_id][0], target_id)
        return True
    return False


async def _fold_relation(conn: AsyncConnection, item: Folding, local_ids: set[int],
                         outcome: FoldOutcome) -> None:
    kind_name, active = RELATION_TYPES[item.content["type"]]
    target = (await ensure_identities(conn, [item.content["target"]]))[item.content["target"]]
    if target == item.author_id:
        return
    kind = RELATION_CODES[kind_name]
    result = await conn.execute(
        upsert(conn, relations, ["source", "kind", "target"], ["active", "ts", "entry"], newer_than="ts"),
        [{"source": item.author_id, "kind": kind, "target": target, "active": active,
          "ts": item.entry.ts, "entry": item.row_id}])
    if kind == BLOCK and item.author_id in local_ids and result.rowcount:
        (outcome.blocked if active else outcome.unblocked).add(target)


async def fold(conn: AsyncConnection, items: Sequence[Folding], local_ids: set[int]) -> FoldOutcome:
    """Fold accepted entries into the views, in the order given (one transaction, the caller's)."""
    outcome = FoldOutcome()
    new_posts = [item for item in items if item.content["type"] == "post"]
    if new_posts:
        await conn.execute(posts.insert(), [_post_row(item) for item in new_posts])
        pending = (await conn.execute(select(edits.c.target).where(
            edits.c.target.in_([item.entry.id for item in new_posts])))).all()
        if pending:
            by_id = {item.entry.id: (item.row_id, item.author_id) for item in new_posts}
            await refresh_post_text(conn, {target: by_id[target] for (target,) in pending})
    likes: list[dict[str, Any]] = []
    for item in items:
        kind = item.content["type"]
        if kind in ("like", "boost"):
            likes.append({"entry": item.row_id, "target": parse_entry_id(item.content["target"]),
                          "kind": LIKE if kind == "like" else BOOST, "author": item.author_id,
                          "ts": item.entry.ts})
        elif kind == "edit":
            outcome.content_removed |= await _fold_edit(conn, item)
        elif kind == "delete":
            outcome.content_removed |= await _fold_delete(conn, item)
        elif kind in RELATION_TYPES:
            await _fold_relation(conn, item, local_ids, outcome)
        elif kind == "profile":
            await conn.execute(upsert(conn, profiles, ["identity"], ["entry", "ts"], newer_than="ts"),
                               [{"identity": item.author_id, "entry": item.row_id, "ts": item.entry.ts}])
    if likes:
        await conn.execute(insert_ignoring(conn, reactions, "target", "kind", "author"), likes)
    return outcome


async def purge_entries(conn: AsyncConnection, row_ids: Sequence[int]) -> None:
    """Remove entries entirely (header, content and what they folded into views).

    For entries that should never have been held: a blocked identity's, or a
    device's past its revocation once a recovery rewrote the identity log.
    """
    wanted = list(row_ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for table in (posts, edits, reactions, relations, profiles, deletions):
            await conn.execute(delete(table).where(table.c.entry.in_(chunk)))
        await conn.execute(delete(entries).where(entries.c.id.in_(chunk)))


async def purge_devices(conn: AsyncConnection, device_ids: Sequence[int], after_seq: int = 0) -> int:
    """Purge these devices' entries past ``after_seq`` and move their heads back to it."""
    if not device_ids:
        return 0
    rows = await conn.execute(select(entries.c.id).where(
        entries.c.device.in_(list(device_ids)), entries.c.seq > after_seq))
    doomed = [row for (row,) in rows.all()]
    await purge_entries(conn, doomed)
    for device_id in device_ids:
        last = (await conn.execute(select(entries.c.seq, entries.c.entry_id)
                                   .where(entries.c.device == device_id)
                                   .order_by(entries.c.seq.desc()).limit(1))).first()
        await conn.execute(update(devices).where(devices.c.id == device_id).values(
            head_seq=last[0] if last else 0, head_id=last[1] if last else None))
    return len(doomed)


async def purge_identity(conn: AsyncConnection, identity_id: int) -> int:
    """Remove everything an identity wrote (a local user blocked it); its identity log stays."""
    device_rows = [row for (row,) in (await conn.execute(
        select(devices.c.id).where(devices.c.identity == identity_id))).all()]
    return await purge_devices(conn, device_rows)


async def expired_posts(conn: AsyncConnection, now_ms: int) -> list[tuple[int, bytes]]:
    """(row id, entry id) of entries past their expiry that still hold content."""
    rows = await conn.execute(
        select(entries.c.id, entries.c.entry_id)
        .where(and_(entries.c.expires.is_not(None), entries.c.expires <= now_ms,
                    or_(entries.c.content.is_not(None),
                        entries.c.id.in_(select(posts.c.entry).where(posts.c.deleted.is_(False)))))))
    return [(row_id, entry_id) for row_id, entry_id in rows.all()]
