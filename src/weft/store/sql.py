"""Small dialect bridges: the few statements SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignoring(conn: AsyncConnection, table: Table, *keys: str) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING, for the connection's dialect."""
    module: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
    return module.insert(table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(conn: AsyncConnection, table: Table, keys: list[str], update: list[str],
           newer_than: str | None = None) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET update-columns [WHERE stored.newer_than < excluded's]."""
    module: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = module.insert(table)
    where = None
    if newer_than is not None:
        where = table.c[newer_than] < statement.excluded[newer_than]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}, where=where)
