"""The inbox queue's rows: activities verified at the inbox, waiting to be mapped. SQL only.

weft.federation.inbox_queue adds them (one insert for the deliveries answered together),
claims them in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several
processes never take the same row), and settles them: done rows are deleted, a row that
failed waits for its retry or is kept as failed.

The statements are plain SQLAlchemy Core over a synchronous ``Connection``, and each
transaction runs whole through ``QueueStore.transaction`` (``open_queue``):

- beside a SQLite database, the queue is a file of its own (``inbox-queue.db``), worked by
  a thread of its own, a transaction a trip. SQLite has one writer per file: in weft.db a
  delivery waited for ingest's batches (~15 ms each, with eight senders); and a
  transaction run statement by statement from a busy event loop (a worker mapping hundreds
  of activities) held the file's lock for as long as the loop took to come back to it, up
  to 180 ms, while the serving process waited to add;
- on PostgreSQL, the node's database itself (migration 0015), through its async engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from weft.store.database import Database, sqlite_connect, sqlite_engine
from weft.store.schema import inbox_queue

__all__ = ["QUEUE_FILE", "QueueStore", "QueuedActivity", "Retry", "add_activities", "claim_activities", "counts",
           "open_queue", "release_activities", "settle_activities", "sweep_failed"]

QUEUE_FILE: Final = "inbox-queue.db"
T = TypeVar("T")


class QueueStore(ABC):
    """Where the queue is kept; runs one transaction at a time, whole."""

    @abstractmethod
    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction, committed if it returns."""

    async def add(self, bodies: Sequence[bytes], now: int) -> None:
        """Keep ``bodies`` (``add_activities`` in a transaction of its own)."""
        await self.transaction(lambda conn: add_activities(conn, bodies, now))

    @abstractmethod
    async def close(self) -> None:
        """Let go of what was opened for the queue (never the node's own database)."""


class _InDatabase(QueueStore):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        async with self.db.write() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        return None          # nothing was opened: the node's database is the node's to close

    async def add(self, bodies: Sequence[bytes], now: int) -> None:
        if self.db.dialect != "postgresql":
            await super().add(bodies, now)
            return
        # Every delivery comes this way: asyncpg itself runs the transaction, four statements
        # without SQLAlchemy's trips between them (PostgreSQL's serving process spent ~1 ms
        # of CPU a delivery, SQLite's 0.7).
        async with self.db.writer.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection   # asyncpg's
            async with driver.transaction():
                await driver.execute(_NO_DISK_WAIT_SQL)
                await driver.executemany(_ADD_SQL_POSTGRESQL, [(body, now, now) for body in bodies])


class _InFile(QueueStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="weft-inbox-queue")
        self._engine = sqlite_engine(path)     # connects on the thread, when first used
        self._adding: sqlite3.Connection | None = None

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._whole, work)

    def _whole(self, work: Callable[[Connection], T]) -> T:
        with self._engine.begin() as conn:
            return work(conn)

    async def add(self, bodies: Sequence[bytes], now: int) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._add, list(bodies), now)

    def _add(self, bodies: list[bytes], now: int) -> None:
        # Every delivery comes this way: on the plain sqlite3 connection a transaction costs
        # 150 µs of CPU, through the engine 400 (~200 of them beginning and ending it).
        if self._adding is None:
            self._adding = sqlite_connect(self.path)
            # Waiting for the lock is ours to do (below): SQLite's own waits sleep 1, 2, 5,
            # 10 ms... while a worker's claim holds the file for a millisecond or two.
            self._adding.execute("PRAGMA busy_timeout = 0")
        connection = self._adding
        _begin_immediate(connection)
        try:
            connection.executemany(_ADD_SQL, [(body, now, now) for body in bodies])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._dispose)
        self._thread.shutdown()

    def _dispose(self) -> None:
        if self._adding is not None:
            self._adding.close()
            self._adding = None
        self._engine.dispose()


def _begin_immediate(connection: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """BEGIN IMMEDIATE, trying again every 0.2 ms while another process writes."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.0002)


# add_activities as the plain connections say it (the columns not named take their defaults).
_ADD_SQL: Final = "INSERT INTO inbox_queue (activity, received_at, next_at) VALUES (?, ?, ?)"
_ADD_SQL_POSTGRESQL: Final = "INSERT INTO inbox_queue (activity, received_at, next_at) VALUES ($1, $2, $3)"
_NO_DISK_WAIT_SQL: Final = "SET LOCAL synchronous_commit = off"


async def open_queue(db: Database) -> QueueStore:
    """The queue of the node on ``db`` (the file beside a SQLite database is made if need be;
    an in-memory SQLite node, as some tests run, keeps it in its one database)."""
    path = db.sqlite_path
    if path is not None and str(path) != ":memory:":
        kept: QueueStore = _InFile(path.with_name(QUEUE_FILE))
    else:
        kept = _InDatabase(db)
        if db.dialect != "sqlite":
            return kept                  # PostgreSQL's table is migration 0015's
    try:
        await kept.transaction(lambda conn: inbox_queue.create(conn, checkfirst=True))
    except BaseException:
        await kept.close()
        raise
    return kept


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


def add_activities(conn: Connection, bodies: Sequence[bytes], now: int) -> None:
    if not bodies:
        return
    if conn.dialect.name == "postgresql":
        # The commit does not wait for the disk: a crash of weft loses nothing, one of the
        # machine may lose the last ~0.6 s, as SQLite's synchronous=NORMAL may (decision 0010).
        conn.execute(text(_NO_DISK_WAIT_SQL))
    conn.execute(insert(inbox_queue), [{"activity": body, "received_at": now, "next_at": now} for body in bodies])


def claim_activities(conn: Connection, now: int, *, limit: int, lease_ms: int) -> list[QueuedActivity]:
    """Up to ``limit`` due activities in the order they came, leased until ``now + lease_ms``:
    a process that dies holding them leaves them due again then."""
    if limit <= 0:
        return []
    q = inbox_queue
    query = (select(q.c.id, q.c.activity, q.c.attempts, q.c.received_at)
             .where(q.c.failed_at.is_(None), q.c.next_at <= now).order_by(q.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = [QueuedActivity(int(row[0]), bytes(row[1]), int(row[2]), int(row[3]))
             for row in conn.execute(query).all()]
    if taken:
        conn.execute(update(q).where(q.c.id.in_([t.id for t in taken])).values(next_at=now + lease_ms))
    return taken


def settle_activities(conn: Connection, done: Sequence[int], retries: Sequence[Retry], failed: Mapping[int, str],
                      now: int) -> None:
    """Mapped ones forgotten (whatever became of them); a retry's due time and error set; the
    failed kept (never claimed again) until ``sweep_failed``, for whoever looks into them."""
    q = inbox_queue
    if done:
        conn.execute(delete(q).where(q.c.id.in_(sorted(done))))
    if retries:
        conn.execute(update(q).where(q.c.id == bindparam("key"))
                     .values(next_at=bindparam("due"), last_error=bindparam("why"), attempts=q.c.attempts + 1),
                     [{"key": r.id, "due": r.next_at, "why": r.error[:1000]} for r in retries])
    if failed:
        conn.execute(update(q).where(q.c.id == bindparam("key"))
                     .values(failed_at=now, last_error=bindparam("why"), attempts=q.c.attempts + 1),
                     [{"key": key, "why": why[:1000]} for key, why in sorted(failed.items())])


def release_activities(conn: Connection, ids: Sequence[int], now: int) -> None:
    """Held but not mapped (the process is stopping): due again at once, for whoever comes next."""
    if ids:
        conn.execute(update(inbox_queue).where(inbox_queue.c.id.in_(sorted(ids))).values(next_at=now))


def sweep_failed(conn: Connection, before: int) -> int:
    return int(conn.execute(delete(inbox_queue).where(inbox_queue.c.failed_at < before)).rowcount or 0)


def counts(conn: Connection) -> dict[str, int]:
    """Activities ``waiting`` (due or not) and ``failed`` (for operators and tests)."""
    q = inbox_queue
    rows = conn.execute(select(q.c.failed_at.is_(None), func.count()).group_by(q.c.failed_at.is_(None))).all()
    found = {"waiting": 0, "failed": 0}
    for waiting, number in rows:
        found["waiting" if waiting else "failed"] += int(number)
    return found
