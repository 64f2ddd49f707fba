"""The inbox queue's rows: activities verified at the inbox, waiting to be mapped. SQL only.

weft.federation.inbox_queue adds them (one insert for the deliveries answered together),
claims them in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several serving
processes never take the same row), and settles them: done rows are deleted, a row that
failed waits for its retry or is kept as failed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.database import Database, sqlite_connect, sqlite_url
from weft.store.schema import inbox_queue

QUEUE_FILE: Final = "inbox-queue.db"

__all__ = ["QUEUE_FILE", "QueuedActivity", "Retry", "SqliteAppender", "add_activities", "any_due", "claim_activities", "counts", "fail_activities",
           "finish_activities", "queue_database", "release_activities", "retry_activities",
           "sweep_failed"]


async def queue_database(db: Database) -> Database:
    """Where the queue of the node on ``db`` is kept: PostgreSQL's database itself (migration
    0015 made the table); beside a SQLite database, the file ``inbox-queue.db`` next to it,
    made on first use. SQLite has one writer per file, and ingest holds weft.db's for a batch
    at a time: a delivery kept in weft.db waited for it (~15 ms each, with eight senders).
    The caller closes what it was given when it is not ``db``."""
    path = db.sqlite_path
    if path is None or str(path) == ":memory:":
        if db.dialect == "sqlite":      # an in-memory node (tests): one database is all there is
            async with db.write() as conn:
                await conn.run_sync(lambda sync: inbox_queue.create(sync, checkfirst=True))
        return db
    own = await Database.open(sqlite_url(path.with_name(QUEUE_FILE)))
    try:
        async with own.write() as conn:
            await conn.run_sync(lambda sync: inbox_queue.create(sync, checkfirst=True))
    except BaseException:
        await own.close()
        raise
    return own


class SqliteAppender:
    """Adds to a SQLite queue file in one trip to a thread of its own: BEGIN IMMEDIATE, one
    insert of every row, COMMIT. Through SQLAlchemy's async engine one such transaction is
    four trips to aiosqlite's thread (checkout, BEGIN, INSERT, COMMIT), about 1 ms of CPU:
    more than the rest of answering a delivery."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="weft-inbox-queue")
        self._connection: sqlite3.Connection | None = None

    async def add(self, bodies: Sequence[bytes], now: int) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._add, list(bodies), now)

    def _add(self, bodies: list[bytes], now: int) -> None:
        if self._connection is None:
            self._connection = sqlite_connect(self.path)
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(_INSERT_SQL, [(body, now, now) for body in bodies])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown()


_INSERT_SQL: Final = "INSERT INTO inbox_queue (activity, received_at, next_at) VALUES (?, ?, ?)"


@dataclass(frozen=True)
class QueuedActivity:
    id: int
    activity: bytes
    attempts: int
    received_at: int


@dataclass(frozen=True)
class Retry:
    id: int
    next_at: int
    error: str


async def add_activities(conn: AsyncConnection, bodies: Sequence[bytes], now: int) -> None:
    if not bodies:
        return
    if conn.dialect.name == "postgresql":
        # The commit does not wait for the disk: a crash of weft loses nothing, one of the
        # machine may lose the last ~0.6 s, as SQLite's synchronous=NORMAL may (decision 0010).
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
    await conn.execute(insert(inbox_queue), [{"activity": body, "received_at": now, "next_at": now}
                                                 for body in bodies])


async def any_due(conn: AsyncConnection, now: int) -> bool:
    """Whether a claim would find anything (read first: a claim is a write transaction)."""
    q = inbox_queue
    return (await conn.execute(select(q.c.id).where(q.c.failed_at.is_(None), q.c.next_at <= now).limit(1))).first() \
        is not None


async def claim_activities(conn: AsyncConnection, now: int, *, limit: int, lease_ms: int) -> list[QueuedActivity]:
    """Up to ``limit`` due activities in the order they came, leased until ``now + lease_ms``:
    a process that dies holding them leaves them due again then."""
    q = inbox_queue
    query = (select(q.c.id, q.c.activity, q.c.attempts, q.c.received_at)
             .where(q.c.failed_at.is_(None), q.c.next_at <= now).order_by(q.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = [QueuedActivity(int(row[0]), bytes(row[1]), int(row[2]), int(row[3]))
             for row in (await conn.execute(query)).all()]
    if taken:
        await conn.execute(update(q).where(q.c.id.in_([t.id for t in taken])).values(next_at=now + lease_ms))
    return taken


async def finish_activities(conn: AsyncConnection, ids: Sequence[int]) -> None:
    """Mapped (whatever became of them): forgotten."""
    if ids:
        await conn.execute(delete(inbox_queue).where(inbox_queue.c.id.in_(sorted(ids))))


async def retry_activities(conn: AsyncConnection, retries: Sequence[Retry]) -> None:
    if retries:
        q = inbox_queue
        await conn.execute(update(q).where(q.c.id == bindparam("key"))
                           .values(next_at=bindparam("due"), last_error=bindparam("why"), attempts=q.c.attempts + 1),
                           [{"key": r.id, "due": r.next_at, "why": r.error[:1000]} for r in retries])


async def fail_activities(conn: AsyncConnection, errors: dict[int, str], now: int) -> None:
    """Given up on: kept (not claimed again) until ``sweep_failed``, for whoever looks into them."""
    if errors:
        q = inbox_queue
        await conn.execute(update(q).where(q.c.id == bindparam("key"))
                           .values(failed_at=now, last_error=bindparam("why"), attempts=q.c.attempts + 1),
                           [{"key": key, "why": why[:1000]} for key, why in sorted(errors.items())])


async def release_activities(conn: AsyncConnection, ids: Sequence[int], now: int) -> None:
    """Held but not mapped (the process is stopping): due again at once, for whoever comes next."""
    if ids:
        await conn.execute(update(inbox_queue).where(inbox_queue.c.id.in_(sorted(ids))).values(next_at=now))


async def sweep_failed(conn: AsyncConnection, before: int) -> int:
    result = await conn.execute(delete(inbox_queue).where(inbox_queue.c.failed_at < before))
    return int(result.rowcount or 0)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """Activities ``waiting`` (due or not) and ``failed`` (for operators and tests)."""
    q = inbox_queue
    rows = (await conn.execute(select(q.c.failed_at.is_(None), func.count()).group_by(q.c.failed_at.is_(None)))).all()
    found = {"waiting": 0, "failed": 0}
    for waiting, number in rows:
        found["waiting" if waiting else "failed"] += int(number)
    return found
