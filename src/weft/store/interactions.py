"""What one person did to posts and what a thread holds: reactions, bookmarks, replies.

SQL only; weft.social decides who may do and see what.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import bookmarks, entries, posts, reactions
from weft.store.sql import insert_ignoring

__all__ = ["add_bookmark", "own_reaction", "posts_of_entries", "reactors", "remove_bookmark", "thread_rows"]


async def own_reaction(conn: AsyncConnection, author: int, target: bytes,
                       kind: int) -> tuple[bytes, int, int] | None:
    """(entry id, row, ts) of ``author``'s standing like or boost (``kind``) of the entry ``target``."""
    row = (await conn.execute(
        select(entries.c.entry_id, reactions.c.entry, reactions.c.ts).join(reactions, reactions.c.entry == entries.c.id)
        .where(reactions.c.author == author, reactions.c.target == target, reactions.c.kind == kind))).first()
    return None if row is None else (bytes(row[0]), row[1], row[2])


async def reactors(conn: AsyncConnection, target: bytes, kind: int, *, limit: int,
                   before: int | None = None) -> list[tuple[int, int]]:
    """(reaction entry row, author) of the likes or boosts of ``target``, newest first."""
    query = select(reactions.c.entry, reactions.c.author).where(reactions.c.target == target,
                                                                 reactions.c.kind == kind)
    if before is not None:
        query = query.where(reactions.c.entry < before)
    rows = await conn.execute(query.order_by(reactions.c.entry.desc()).limit(limit))
    return [(row, author) for row, author in rows.all()]


async def add_bookmark(conn: AsyncConnection, account: int, post: int, now: int) -> None:
    await conn.execute(insert_ignoring(conn, bookmarks, "account", "post"),
                       [{"account": account, "post": post, "ts": now}])


async def remove_bookmark(conn: AsyncConnection, account: int, post: int) -> None:
    await conn.execute(delete(bookmarks).where(bookmarks.c.account == account, bookmarks.c.post == post))


async def thread_rows(conn: AsyncConnection, root: bytes) -> list[tuple[int, bytes, bytes | None]]:
    """(post row, entry id, parent entry id) of the root and every reply under it, oldest first."""
    rows = await conn.execute(
        select(posts.c.entry, entries.c.entry_id, posts.c.reply_to).join(entries, entries.c.id == posts.c.entry)
        .where((posts.c.root == root) | (entries.c.entry_id == root)).order_by(posts.c.ts, posts.c.entry))
    return [(row, bytes(entry_id), None if parent is None else bytes(parent)) for row, entry_id, parent in rows.all()]


async def posts_of_entries(conn: AsyncConnection, entry_ids: list[bytes]) -> dict[bytes, tuple[int, int, int]]:
    """(post row, ts, author) of the posts among ``entry_ids`` (the parents replies point at)."""
    if not entry_ids:
        return {}
    rows = await conn.execute(
        select(entries.c.entry_id, posts.c.entry, posts.c.ts, posts.c.author).join(entries, entries.c.id == posts.c.entry)
        .where(entries.c.entry_id.in_(entry_ids)))
    return {bytes(entry_id): (row, ts, author) for entry_id, row, ts, author in rows.all()}
