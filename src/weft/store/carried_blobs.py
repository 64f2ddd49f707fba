"""Blobs that came with entries (an imported archive), held while the entry naming them lives. SQL only.

Upload rows (weft.store.uploads) say which blobs this node's own uploads hold. A blob an
archive carried has no upload: a ``carried_blobs`` row names it and the entry (a post or
a profile) whose content names it. The row holds the blob for weft.media.upkeep while
that post lives (not deleted, not expired) or while that profile is its author's current
one; rows of dead entries are dropped as upload rows of dead posts are, and then the file
goes unless something else holds it. Only blobs whose bytes the archive carried get a row:
naming a digest is not enough to keep someone else's image alive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import carried_blobs, entries, posts, profiles
from weft.store.sql import insert_ignoring

__all__ = ["carried_by_identity", "carried_holding", "carried_page", "carry_blobs", "drop_dead_carried"]

_CHUNK = 500  # values per IN (...): well under SQLite's and asyncpg's parameter limits


async def carry_blobs(conn: AsyncConnection, named: Mapping[str, Sequence[bytes]]) -> set[str]:
    """Record that the entries (by entry id) naming each blob hold it, for those entries held
    here with their content; the blobs that some row now holds."""
    wanted = sorted({entry_id for ids in named.values() for entry_id in ids})
    row_of: dict[bytes, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.execute(select(entries.c.entry_id, entries.c.id).where(
            entries.c.entry_id.in_(wanted[start:start + _CHUNK]), entries.c.content.is_not(None)))
        row_of.update({entry_id: row_id for entry_id, row_id in rows.all()})
    values = sorted({(row_of[entry_id], digest) for digest, ids in named.items()
                     for entry_id in ids if entry_id in row_of})
    for start in range(0, len(values), _CHUNK):
        await conn.execute(insert_ignoring(conn, carried_blobs, "entry", "blob"),
                           [{"entry": entry, "blob": digest} for entry, digest in values[start:start + _CHUNK]])
    return {digest for _, digest in values}


def _dead(now: int) -> Any:
    """The entry is no live post (deleted, expired, purged) and no identity's current profile."""
    live_post = exists().where(posts.c.entry == carried_blobs.c.entry, posts.c.deleted == false(),
                               or_(posts.c.expires.is_(None), posts.c.expires > now))
    current_profile = exists().where(profiles.c.entry == carried_blobs.c.entry)
    return and_(~live_post, ~current_profile)


async def drop_dead_carried(conn: AsyncConnection, now: int, blobs: Sequence[str] | None = None) -> set[str]:
    """Drop the rows of dead entries (among those of ``blobs``, or all); the digests they held,
    for weft.media.upkeep to release once this commits."""
    if blobs is None:
        rows = await conn.execute(delete(carried_blobs).where(_dead(now)).returning(carried_blobs.c.blob))
        return {digest for (digest,) in rows.all()}
    wanted = sorted(set(blobs))
    freed: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.execute(delete(carried_blobs).where(
            carried_blobs.c.blob.in_(wanted[start:start + _CHUNK]), _dead(now)).returning(carried_blobs.c.blob))
        freed.update(digest for (digest,) in rows.all())
    return freed


async def carried_holding(conn: AsyncConnection, digests: Sequence[str]) -> set[str]:
    """Which of ``digests`` a row holds (the caller dropped the rows of dead entries first)."""
    wanted = sorted(set(digests))
    held: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.execute(select(carried_blobs.c.blob).where(
            carried_blobs.c.blob.in_(wanted[start:start + _CHUNK])).distinct())
        held.update(digest for (digest,) in rows.all())
    return held


async def carried_page(conn: AsyncConnection, after: tuple[int, str] | None,
                       limit: int) -> tuple[list[str], tuple[int, str] | None]:
    """The digests rows hold, ``limit`` rows at a time in key order from past ``after``; and the
    key to go on from, or None at the end (for the sweep, which must not load every row at once)."""
    query = select(carried_blobs.c.entry, carried_blobs.c.blob)
    if after is not None:
        query = query.where(or_(carried_blobs.c.entry > after[0],
                                and_(carried_blobs.c.entry == after[0], carried_blobs.c.blob > after[1])))
    rows = (await conn.execute(query.order_by(carried_blobs.c.entry, carried_blobs.c.blob).limit(limit))).all()
    last = (rows[-1].entry, rows[-1].blob) if len(rows) == limit else None
    return [row.blob for row in rows], last


async def carried_by_identity(conn: AsyncConnection, identity: int) -> set[str]:
    """The blobs rows of an identity's entries hold (read before a purge removes the entries)."""
    rows = await conn.execute(select(carried_blobs.c.blob).join(entries, entries.c.id == carried_blobs.c.entry)
                              .where(entries.c.author == identity).distinct())
    return {digest for (digest,) in rows.all()}
