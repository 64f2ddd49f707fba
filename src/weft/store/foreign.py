"""What the store keeps of foreign entries beyond the entries themselves: their origins.

One origin (the IRI of the object or activity a foreign entry was made of) is held once;
that is what makes an inbox idempotent, and how the federation face finds the entry of
an IRI it is told about (the post a reply answers, the like an Undo takes back).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import foreign_origins
from weft.store.sql import execute_rows, select_in

__all__ = ["entries_of_origins", "forget_origins", "origins_of_entries", "record_origins"]


async def entries_of_origins(conn: AsyncConnection, origins: Iterable[str]) -> dict[str, tuple[int, bytes]]:
    """origin -> (entry row, entry id) of the origins held."""
    rows = await select_in(conn, "SELECT o.origin, e.id, e.entry_id FROM foreign_origins o "
                                 "JOIN entries e ON e.id = o.entry WHERE o.origin {in}", sorted(set(origins)))
    return {origin: (row, bytes(entry_id)) for origin, row, entry_id in rows}


async def origins_of_entries(conn: AsyncConnection, rows: Iterable[int]) -> dict[int, str]:
    """entry row -> origin, for the foreign ones among ``rows``."""
    wanted = sorted(set(rows))
    if not wanted:
        return {}
    found = await conn.execute(select(foreign_origins.c.entry, foreign_origins.c.origin)
                               .where(foreign_origins.c.entry.in_(wanted)))
    return {row: origin for row, origin in found.all()}


async def record_origins(conn: AsyncConnection, pairs: list[tuple[str, int]]) -> None:
    # One row per foreign entry ingested: straight to the driver, as ingest's other hot inserts.
    await execute_rows(conn, "record_origins", foreign_origins.insert, ("origin", "entry"), pairs)


async def forget_origins(conn: AsyncConnection, rows: list[int]) -> None:
    """With purged entries their origins go too (a refused author's, should it be let in again)."""
    if rows:
        await conn.execute(delete(foreign_origins).where(foreign_origins.c.entry.in_(rows)))


