"""Connections to SQLite or PostgreSQL, and the rules each needs.

SQLite (the embedded default) gets 8 KiB pages (set when the file is created: a
signed post with its content is 1.5 KiB, and 4 KiB pages leave a quarter of each page
empty; see bench/bench_disk.py), WAL, ``synchronous=NORMAL`` (a committed
transaction survives a crash of the process; only a power cut can lose the
last ones), ``secure_delete`` (deleted bytes are overwritten with zeros, see
docs/decisions/0002-deletion.md) and two engines: one writer connection whose
transactions start with ``BEGIN IMMEDIATE``, and a pool of readers. PostgreSQL
is chosen by a ``postgresql://`` URL; ``?schema=NAME`` puts a node's tables in
their own schema, so several nodes or test runs can share one database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from weft.errors import UsageError

__all__ = ["Database", "sqlite_connect", "sqlite_engine", "sqlite_url"]

_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# cache_size=-16384: 16 MiB of page cache per connection. Each reader has its own, so a
# larger one multiplies: 64 MiB made a syncing node hold 239 MiB against 189 MiB, with the
# 1M-entry feed no faster (bench_sync, bench_feed).
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in ("page_size=8192", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000",
                   "secure_delete=ON", "cache_size=-16384", "temp_store=MEMORY"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the engines' pragmas (it begins its own transactions)."""
    connection = sqlite3.connect(path, check_same_thread=False)
    _sqlite_pragmas(connection, None)
    return connection


def sqlite_engine(path: Path) -> Engine:
    """A synchronous engine on the SQLite file ``path`` with the async writer's rules (the
    pragmas; transactions begin IMMEDIATE), for a thread of its own that runs each
    transaction whole, in one trip (weft.store.inbox_queue)."""
    engine = create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


@dataclass
class Database:
    """One node's database: a write path and a read path, and what dialect they speak."""

    url: URL
    dialect: str
    writer: AsyncEngine
    reader: AsyncEngine
    schema: str | None = None
    # Set when removed content may still sit in SQLite's WAL (a checkpoint was held back
    # by a reader); weft.store.maintenance.checkpoint clears it once one completes.
    checkpoint_owed: bool = False

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite" or not self.url.database:
            return None
        return Path(self.url.database)

    @classmethod
    async def open(cls, url: str, *, schema: str | None = None) -> Database:
        """Connect (creating the SQLite file or PostgreSQL schema if needed); no migration here."""
        try:
            parsed = make_url(url)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
            raise UsageError(f"cannot read database URL {url!r}: {exc}") from None
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            writer = create_async_engine(parsed, pool_size=1, max_overflow=0)
            reader = create_async_engine(parsed, pool_size=4, max_overflow=4)
            for engine, begin in ((writer, "BEGIN IMMEDIATE"), (reader, "BEGIN")):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(engine.sync_engine, "begin",
                             lambda conn, sql=begin: conn.exec_driver_sql(sql))
            return cls(parsed, "sqlite", writer, reader)
        if backend == "postgresql":
            query = dict(parsed.query)
            url_schema = query.pop("schema", None)
            schema = schema or (url_schema if isinstance(url_schema, str) else None)
            parsed = parsed.set(drivername="postgresql+asyncpg", query=query)
            connect_args: dict[str, Any] = {}
            if schema is not None:
                if not isinstance(schema, str) or not _SCHEMA_RE.fullmatch(schema):
                    raise UsageError(f"schema name {schema!r} must be lower-case letters, digits and _")
                connect_args["server_settings"] = {"search_path": schema}
                bootstrap = create_async_engine(parsed, poolclass=NullPool)
                try:
                    async with bootstrap.begin() as conn:
                        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                finally:
                    await bootstrap.dispose()
            engine = create_async_engine(parsed, connect_args=connect_args, pool_size=8,
                                         max_overflow=8)
            return cls(parsed, "postgresql", engine, engine, schema)
        raise UsageError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (on SQLite, the single writer connection)."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.connect() as conn:
            yield conn

    async def drop_schema(self) -> None:
        """Remove this node's PostgreSQL schema and everything in it (tests clean up with this)."""
        if self.dialect == "postgresql" and self.schema:
            async with self.writer.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
