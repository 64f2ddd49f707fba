"""Device logs as stored: heads, entries, forks, and the removal of content."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.foreign import FOREIGN_DEVICE_PREFIX
from weft.store.schema import VISIBILITY_CODES, devices, edits, entries, forks, posts
from weft.store.sql import execute_rows, select_in

__all__ = [
    "DeviceHead",
    "device_heads",
    "drop_content",
    "entries_by_ids",
    "insert_devices",
    "insert_entries",
    "log_range",
    "record_fork",
    "stored_at",
    "update_heads",
]


_ENTRY_COLUMNS = ("id", "entry_id", "device", "seq", "author", "ts", "expires", "header", "content")


@dataclass
class DeviceHead:
    """Where a device log stands on this node."""

    id: int
    key: str
    identity: int
    head_seq: int
    head_id: bytes | None
    forked: bool


async def device_heads(conn: AsyncConnection, keys: Iterable[str], *, lock: bool = False) -> dict[str, DeviceHead]:
    """Where these device logs stand. ``lock`` (in a write transaction) holds their rows until
    commit on PostgreSQL, so that writers in several processes extend a log one at a time;
    SQLite's writer already holds the whole database."""
    template = "SELECT id, key, identity, head_seq, head_id, forked FROM devices WHERE key {in}"
    if lock and conn.dialect.name == "postgresql":
        template += " ORDER BY id FOR UPDATE"
    rows = await select_in(conn, template, sorted(set(keys)))
    return {key: DeviceHead(row_id, key, identity, head_seq, bytes(head_id) if head_id is not None else None,
                            bool(forked))
            for row_id, key, identity, head_seq, head_id, forked in rows}


async def insert_devices(conn: AsyncConnection, new: dict[str, int]) -> dict[str, DeviceHead]:
    """Rows for devices first seen now (key -> identity row id); their heads, at seq 0."""
    if not new:
        return {}
    await conn.execute(devices.insert(), [{"key": key, "identity": identity, "head_seq": 0, "forked": False}
                                          for key, identity in sorted(new.items())])
    return await device_heads(conn, new, lock=True)


async def insert_device(conn: AsyncConnection, key: str, identity: int) -> DeviceHead:
    result = await conn.execute(devices.insert().values(key=key, identity=identity, head_seq=0,
                                                        forked=False).returning(devices.c.id))
    return DeviceHead(int(result.scalar_one()), key, identity, 0, None, False)


async def update_heads(conn: AsyncConnection, heads: Sequence[DeviceHead]) -> None:
    await execute_rows(
        conn, "update_heads",
        lambda: update(devices).where(devices.c.id == bindparam("b_id"))
        .values(head_seq=bindparam("b_seq"), head_id=bindparam("b_head")),
        ("b_seq", "b_head", "b_id"), [(h.head_seq, h.head_id, h.id) for h in heads])


async def stored_at(conn: AsyncConnection, device: int, seq: int) -> tuple[int, bytes, bytes, bool] | None:
    """(row id, entry id, header, has content) of the entry at (device, seq), if held."""
    row = (await conn.execute(
        select(entries.c.id, entries.c.entry_id, entries.c.header, entries.c.content.is_not(None))
        .where(entries.c.device == device, entries.c.seq == seq))).first()
    return None if row is None else (row[0], row[1], row[2], bool(row[3]))


async def insert_entries(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert entry rows; returns their row ids in the same order."""
    if not rows:
        return []
    if conn.dialect.name == "sqlite":
        # The writer holds SQLite's write lock (BEGIN IMMEDIATE), so numbering rows here is
        # safe, and a plain executemany is several times faster than INSERT … RETURNING.
        top = (await conn.execute(select(func.max(entries.c.id)))).scalar()
        first = int(top or 0) + 1
        # Positional tuples straight to the driver: half the cost of SQLAlchemy's per-row handling.
        await execute_rows(conn, "insert_entries", entries.insert, _ENTRY_COLUMNS, [
            (first + index, row["entry_id"], row["device"], row["seq"], row["author"], row["ts"],
             row["expires"], row["header"], row["content"]) for index, row in enumerate(rows)])
        return [first + index for index in range(len(rows))]
    result = await conn.execute(entries.insert().returning(entries.c.id, sort_by_parameter_order=True), rows)
    return [int(row_id) for (row_id,) in result.all()]


async def record_fork(conn: AsyncConnection, device: DeviceHead, seq: int, held: bytes, offered: bytes,
                      now_ms: int) -> None:
    await conn.execute(forks.insert().values(device=device.id, seq=seq, held=held, offered=offered,
                                             detected_at=now_ms))
    await conn.execute(update(devices).where(devices.c.id == device.id).values(forked=True))
    device.forked = True


async def drop_content(conn: AsyncConnection, row_ids: Iterable[int]) -> int:
    """Remove the content bytes of these entries; headers stay so the chain still verifies."""
    wanted = list(row_ids)
    if not wanted:
        return 0
    result = await conn.execute(update(entries).where(entries.c.id.in_(wanted), entries.c.content.is_not(None))
                                .values(content=None))
    return int(result.rowcount or 0)


async def entries_by_ids(conn: AsyncConnection, entry_ids: Iterable[bytes]) -> dict[bytes, tuple[int, int]]:
    """entry id -> (row id, author row id) for the entries held among ``entry_ids``."""
    wanted = list(set(entry_ids))
    found: dict[bytes, tuple[int, int]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = await conn.execute(select(entries.c.entry_id, entries.c.id, entries.c.author)
                                  .where(entries.c.entry_id.in_(chunk)))
        found.update({entry_id: (row_id, author) for entry_id, row_id, author in rows.all()})
    return found


async def log_range(conn: AsyncConnection, device_key: str, after_seq: int, limit: int, *,
                    now_ms: int, public_only: bool = False) -> list[tuple[bytes, bytes | None]]:
    """(header, content) of a device log's entries after ``after_seq``, in seq order.

    Foreign logs (docs/protocol/foreign-entries.md) are never handed out. Content past its
    expiry is never handed out, even before upkeep has dropped it. With
    ``public_only`` (an unauthenticated reader), the content of followers-only and direct
    posts, and of edits of them, is withheld too: the headers still chain, as for deletes.
    """
    if device_key.startswith(FOREIGN_DEVICE_PREFIX):
        return []   # foreign entries are never handed on: no peer could check them
    query = (select(entries.c.header, entries.c.content, entries.c.expires, entries.c.id)
             .join(devices, devices.c.id == entries.c.device)
             .where(and_(devices.c.key == device_key, entries.c.seq > after_seq))
             .order_by(entries.c.seq).limit(limit))
    rows = (await conn.execute(query)).all()
    private: set[int] = set()
    if public_only and rows:
        ids = [row.id for row in rows]
        target = entries.alias("target")
        found = await conn.execute(
            select(entries.c.id).select_from(entries)
            .outerjoin(posts, posts.c.entry == entries.c.id)
            .outerjoin(edits, edits.c.entry == entries.c.id)
            .outerjoin(target, target.c.entry_id == edits.c.target)
            .where(entries.c.id.in_(ids), or_(
                posts.c.visibility >= VISIBILITY_CODES["followers"],
                target.c.id.in_(select(posts.c.entry).where(
                    posts.c.visibility >= VISIBILITY_CODES["followers"])))))
        private = {row for (row,) in found.all()}
    return [(row.header, None if (row.expires is not None and row.expires <= now_ms) or row.id in private
             else row.content) for row in rows]


async def count_entries(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(entries))).scalar_one())
