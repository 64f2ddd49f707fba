"""Keeping the promise that removed content is gone from the database files.

SQLite runs with ``secure_delete=ON``, so a deleted or nulled value is
overwritten with zeros in its page. But WAL mode appends changed pages to the
``-wal`` file, and older frames there still hold the bytes until a checkpoint
copies the pages back and truncates the file. So after every transaction that
removed content, the writer runs ``PRAGMA wal_checkpoint(TRUNCATE)``; if a
reader keeps it from finishing, it is retried at the next maintenance tick.
Before that, the full-text index is merged if rows were taken out of it, since FTS5
keeps their words in old segments until those are rewritten (store/search_index.py).
PostgreSQL keeps dead row versions until VACUUM: see docs/decisions/0002-deletion.md.
"""

from __future__ import annotations

from sqlalchemy import text

from weft.store.database import Database
from weft.store.search_index import merge_owed, merge_post_index

__all__ = ["checkpoint"]


async def checkpoint(db: Database) -> bool:
    """Merge the search index and flush and truncate SQLite's WAL (or VACUUM the entries and
    search tables on PostgreSQL).

    Returns True when complete; False when a reader held it back (try again later).
    """
    if db.dialect == "sqlite":
        async with db.writer.connect() as conn:
            if merge_owed(conn):
                await merge_post_index(conn)
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            row = await cursor.fetchone()
            await cursor.close()
            done = row is not None and row[0] == 0
            db.checkpoint_owed = not done
            return done
    async with db.writer.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM entries, post_search"))
    return True
