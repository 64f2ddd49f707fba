"""Folding entries into views: posts with edits applied, reactions, relations, profiles, moves.

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

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.content import FOLLOW_ANSWER_TYPES, RELATION_TYPES
from weft.core.entry import Entry
from weft.core.foreign import ForeignEntry
from weft.core.ids import is_actor_iri, parse_entry_id
from weft.store.entries import drop_content, entries_by_ids
from weft.store.identities import ensure_identities
from weft.store.moves import MoveFold, fold_moves
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
    follow_grants,
    foreign_origins,
    moves,
    posts,
    profiles,
    reactions,
    relations,
)
from weft.store.search_index import index_posts
from weft.store.social import fold_social, forget_posts
from weft.store.sql import execute_rows, insert_ignoring, select_in, upsert

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
    entry: Entry | ForeignEntry   # a signed header or a foreign one: folds read id, ts, expires
    author_id: int
    content: dict[str, Any]


@dataclass
class FoldOutcome:
    """What a fold changed that the caller must act on."""

    content_removed: bool = False
    blocked: set[int] = field(default_factory=set)
    unblocked: set[int] = field(default_factory=set)


_POST_COLUMNS = ("entry", "author", "ts", "reply_to", "root", "visibility", "text_entry", "edited_ts",
                 "deleted", "expires")


_REACTION_COLUMNS = ("entry", "target", "kind", "author", "ts")


def _post_values(item: Folding) -> tuple[Any, ...]:
    """A new post's row, in _POST_COLUMNS order."""
    content = item.content
    reply_to = parse_entry_id(content["reply_to"]) if "reply_to" in content else None
    root = parse_entry_id(content["root"]) if "root" in content else reply_to
    return (item.row_id, item.author_id, item.entry.ts, reply_to, root,
            VISIBILITY_CODES[content.get("visibility", "public")], item.row_id, None, False,
            item.entry.expires)


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
        changes: list[dict[str, Any]] = []
        for target in chunk:
            post_row = post_rows[target][0]
            edit_row, ts = newest.get(target, (post_row, None))
            changes.append({"b_post": post_row, "b_text": edit_row, "b_ts": ts})
        await conn.execute(update(posts).where(posts.c.entry == bindparam("b_post"), posts.c.deleted.is_(False))
                           .values(text_entry=bindparam("b_text"), edited_ts=bindparam("b_ts")), changes)
        await index_posts(conn, [change["b_post"] for change in changes])


async def apply_delete(conn: AsyncConnection, target_row: int, target_id: bytes) -> None:
    """Remove the content of ``target_row`` and whatever it contributed to views."""
    await drop_content(conn, [target_row])
    post = (await conn.execute(select(posts.c.author).where(posts.c.entry == target_row))).first()
    if post is not None:
        await conn.execute(update(posts).where(posts.c.entry == target_row)
                           .values(deleted=True, text_entry=target_row))
        # Only the author's own edits go with it: anyone else's never showed, and must end the
        # same whether they came before the delete or after it (see _fold_edit).
        edit_rows = (await conn.execute(select(edits.c.entry).where(
            edits.c.target == target_id, edits.c.author == post.author))).all()
        await drop_content(conn, [row for (row,) in edit_rows])
    await conn.execute(delete(reactions).where(reactions.c.entry == target_row))
    await forget_posts(conn, [target_row])   # a deleted like or follow notifies no more either
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
    if await _deleted_by(conn, [target_id], item.author_id):
        await drop_content(conn, [item.row_id])  # the author deleted the target before this edit came
        return True
    found = await entries_by_ids(conn, [target_id])
    if target_id not in found:
        return False
    deleted = (await conn.execute(select(posts.c.deleted).where(posts.c.entry == found[target_id][0]))).first()
    if deleted is not None and deleted[0] and found[target_id][1] == item.author_id:
        await drop_content(conn, [item.row_id])
        return True
    await refresh_post_text(conn, {target_id: found[target_id]})
    return False


async def _deleted_by(conn: AsyncConnection, targets: Sequence[bytes], author: int) -> set[bytes]:
    """Which of ``targets`` ``author`` has deleted (whether or not the targets are held yet)."""
    found: set[bytes] = set()
    wanted = list(targets)
    for start in range(0, len(wanted), 500):
        rows = await conn.execute(select(deletions.c.target).where(
            deletions.c.target.in_(wanted[start:start + 500]), deletions.c.author == author))
        found.update(target for (target,) in rows.all())
    return found


async def _fold_delete(conn: AsyncConnection, item: Folding) -> bool:
    target_id = parse_entry_id(item.content["target"])
    await conn.execute(insert_ignoring(conn, deletions, "target", "author"),
                       [{"target": target_id, "author": item.author_id, "entry": item.row_id}])
    # Edits that came before their target: a delete by their author removes them as well.
    early = (await conn.execute(select(edits.c.entry).where(
        edits.c.target == target_id, edits.c.author == item.author_id))).all()
    removed = await drop_content(conn, [row for (row,) in early]) > 0
    found = await entries_by_ids(conn, [target_id])
    if target_id in found and found[target_id][1] == item.author_id:
        await apply_delete(conn, found[target_id][0], target_id)
        return True
    return removed


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


async def _fold_edits(conn: AsyncConnection, items: Sequence[Folding]) -> bool:
    """What _fold_edit does to each of ``items`` in turn, in a few statements for them all.

    The same as one at a time as long as no delete runs in between (nothing else
    changes ``posts.deleted``): each edit is stored, an edit of a post its author
    deleted loses its content, and the others' posts show their newest edit.
    """
    targets = [parse_entry_id(item.content["target"]) for item in items]
    await conn.execute(edits.insert(), [
        {"entry": item.row_id, "target": target, "author": item.author_id, "ts": item.entry.ts}
        for item, target in zip(items, targets, strict=True)])
    found = await entries_by_ids(conn, targets)
    target_rows = sorted({found[target][0] for target in targets if target in found})
    deleted: set[int] = set()
    for start in range(0, len(target_rows), 500):
        rows = await conn.execute(select(posts.c.entry).where(
            posts.c.entry.in_(target_rows[start:start + 500]), posts.c.deleted.is_(True)))
        deleted.update(row for (row,) in rows.all())
    erased: set[tuple[bytes, int]] = set()  # (target, author) of deletes held, targets held or not
    for start in range(0, len(targets), 500):
        rows = await conn.execute(select(deletions.c.target, deletions.c.author).where(
            deletions.c.target.in_(targets[start:start + 500])))
        erased.update((target, author) for target, author in rows.all())
    dropped: list[int] = []
    shown: dict[bytes, tuple[int, int]] = {}
    for item, target in zip(items, targets, strict=True):
        if (target, item.author_id) in erased:
            dropped.append(item.row_id)  # the author deleted the target before this edit came
            continue
        if target not in found:
            continue
        if found[target][0] in deleted and found[target][1] == item.author_id:
            dropped.append(item.row_id)
        else:
            shown[target] = found[target]
    await drop_content(conn, dropped)
    if shown:
        await refresh_post_text(conn, shown)
    return bool(dropped)


async def _fold_edits_and_deletes(conn: AsyncConnection, items: Sequence[Folding]) -> bool:
    """Edits and deletes in the order given; True if content was removed.

    Edits are folded together first, then deletes one by one. That ends the same as
    strict order unless a delete meets an edit of the same batch (it deletes the
    edit, or the post the edit changes): those batches go strictly in order.
    """
    edit_items = [item for item in items if item.content["type"] == "edit"]
    delete_items = [item for item in items if item.content["type"] == "delete"]
    edited = {parse_entry_id(item.content["target"]) for item in edit_items}
    edited.update(item.entry.id for item in edit_items)
    removed = False
    if any(parse_entry_id(item.content["target"]) in edited for item in delete_items):
        for item in items:
            fold_one = _fold_edit if item.content["type"] == "edit" else _fold_delete
            removed |= await fold_one(conn, item)
        return removed
    if edit_items:
        removed = await _fold_edits(conn, edit_items)
    for item in delete_items:
        removed |= await _fold_delete(conn, item)
    return removed


async def _fold_relations(conn: AsyncConnection, items: Sequence[Folding], local_ids: set[int],
                          outcome: FoldOutcome) -> None:
    """What _fold_relation does to each of ``items`` in turn, in a few statements for them all.

    A block by a local identity is upserted on its own, since whether it changed the
    relation decides a purge; it shares no key with the others, so order is kept.
    """
    dids = [item.content["target"] for item in items]
    targets = await ensure_identities(conn, dids)
    together: list[dict[str, Any]] = []
    alone: list[dict[str, Any]] = []
    for item, did in zip(items, dids, strict=True):
        kind_name, active = RELATION_TYPES[item.content["type"]]
        target = targets[did]
        if target == item.author_id:
            continue
        kind = RELATION_CODES[kind_name]
        row = {"source": item.author_id, "kind": kind, "target": target, "active": active,
               "ts": item.entry.ts, "entry": item.row_id}
        (alone if kind == BLOCK and item.author_id in local_ids else together).append(row)
    statement = upsert(conn, relations, ["source", "kind", "target"], ["active", "ts", "entry"],
                       newer_than="ts")
    if together:
        await conn.execute(statement, together)
    for row in alone:
        result = await conn.execute(statement, [row])
        if result.rowcount:
            (outcome.blocked if row["active"] else outcome.unblocked).add(row["target"])


async def _remote_follows_wait(conn: AsyncConnection, items: Sequence[Folding]) -> None:
    """Follows of Fediverse actors wait for their Accept (a ``follow_accept`` entry of theirs)
    even before any profile of theirs is held: a placeholder profiles row (no entry, ts 0,
    locked) says so until their profile comes, which is folded as locked too."""
    targets = {item.content["target"] for item in items
               if item.content["type"] == "follow" and is_actor_iri(item.content["target"])}
    if targets:
        ids = await ensure_identities(conn, targets)
        await conn.execute(insert_ignoring(conn, profiles, "identity"),
                           [{"identity": ids[did], "entry": 0, "ts": 0, "locked": True} for did in sorted(targets)])


async def fold(conn: AsyncConnection, items: Sequence[Folding], local_ids: set[int]) -> FoldOutcome:
    """Fold accepted entries into the views, in the order given (one transaction, the caller's).

    Entries of a kind are folded together, a few statements per batch rather than per
    entry (each statement is a round trip to SQLite's thread); _fold_edits_and_deletes
    and _fold_relations say why the end state is the one of folding in order.
    """
    outcome = FoldOutcome()
    new_posts = [item for item in items if item.content["type"] == "post"]
    if new_posts:
        await execute_rows(conn, "fold_posts", posts.insert, _POST_COLUMNS,
                           [_post_values(item) for item in new_posts])
        await index_posts(conn, [item.row_id for item in new_posts])
        pending = await select_in(conn, "SELECT DISTINCT target FROM edits WHERE target {in}",
                                  [item.entry.id for item in new_posts])
        if pending:
            by_id = {item.entry.id: (item.row_id, item.author_id) for item in new_posts}
            await refresh_post_text(conn, {bytes(target): by_id[bytes(target)] for (target,) in pending})
    likes: list[tuple[Any, ...]] = []
    edits_and_deletes: list[Folding] = []
    relation_items: list[Folding] = []
    profile_rows: list[dict[str, Any]] = []
    move_items: list[MoveFold] = []
    social: list[Folding] = []   # likes, boosts, follows and follow answers: notifications, grants
    for item in items:
        kind = item.content["type"]
        if kind in ("like", "boost", "follow") or kind in FOLLOW_ANSWER_TYPES:
            social.append(item)
        if kind in ("like", "boost"):
            likes.append((item.row_id, parse_entry_id(item.content["target"]), LIKE if kind == "like" else BOOST,
                          item.author_id, item.entry.ts))
        elif kind in ("edit", "delete"):
            edits_and_deletes.append(item)
        elif kind in RELATION_TYPES:
            relation_items.append(item)
        elif kind == "profile":
            # A Fediverse actor lets a follower in with its Accept: until then a follow of it
            # waits, as one of a locked account (``locked`` is "follows wait for an answer").
            profile_rows.append({"identity": item.author_id, "entry": item.row_id, "ts": item.entry.ts,
                                 "locked": item.content.get("locked") is True
                                 or isinstance(item.entry, ForeignEntry)})
        elif kind == "move":
            move_items.append(MoveFold(item.row_id, item.author_id, item.entry.ts, item.content["target"]))
    # The groups touch different tables and rows, so their order does not matter.
    if edits_and_deletes:
        outcome.content_removed |= await _fold_edits_and_deletes(conn, edits_and_deletes)
    if relation_items:
        await _fold_relations(conn, relation_items, local_ids, outcome)
        await _remote_follows_wait(conn, relation_items)
    if profile_rows:
        await conn.execute(upsert(conn, profiles, ["identity"], ["entry", "ts", "locked"], newer_than="ts"),
                           profile_rows)
    if move_items:
        await fold_moves(conn, move_items)
    if likes:
        await execute_rows(conn, "fold_reactions",
                           lambda: insert_ignoring(conn, reactions, "target", "kind", "author"),
                           _REACTION_COLUMNS, likes)
    if new_posts or social:
        await fold_social(conn, new_posts, social, local_ids)
    return outcome


async def purge_entries(conn: AsyncConnection, row_ids: Sequence[int]) -> None:
    """Remove entries entirely (header, content and what they folded into views).

    For entries that should never have been held: a blocked identity's, or a
    device's past its revocation once a recovery rewrote the identity log.
    """
    wanted = list(row_ids)
    edited: set[bytes] = set()  # posts whose shown text may be a purged edit
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = await conn.execute(select(edits.c.target).where(edits.c.entry.in_(chunk)))
        edited.update(target for (target,) in rows.all())
        await forget_posts(conn, chunk)
        for table in (posts, edits, reactions, relations, profiles, deletions, follow_grants, foreign_origins,
                      moves):
            await conn.execute(delete(table).where(table.c.entry.in_(chunk)))
        await conn.execute(delete(entries).where(entries.c.id.in_(chunk)))
    if edited:
        found = await entries_by_ids(conn, edited)
        await refresh_post_text(conn, {target: found[target] for target in edited if target in found})


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
