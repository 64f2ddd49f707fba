"""Small dialect bridges: the few statements SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# (dialect, key) -> SQL text in the driver's own parameter style, compiled once.
_DRIVER_SQL: dict[tuple[str, str], str] = {}
# The statements below, built once per dialect and shape: a statement object keeps its
# cache key once computed, and computing it (then looking up the compiled form) cost more
# than building it, for every batch that ingest folds.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def insert_ignoring(conn: AsyncConnection, table: Table, *keys: str) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING, for the connection's dialect."""
    shape = ("ignoring", conn.dialect.name, table, keys)
    statement = _STATEMENTS.get(shape)
    if statement is None:
        module: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
        statement = _STATEMENTS[shape] = module.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return statement


def upsert(conn: AsyncConnection, table: Table, keys: list[str], update: list[str],
           newer_than: str | None = None) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET update-columns [WHERE stored.newer_than <= excluded's].

    ``<=``: on a tie the row folded later wins, as with edits (docs/protocol/views.md), so an
    undo written in the same millisecond as what it undoes (same device, next seq) still wins.
    """
    shape = ("upsert", conn.dialect.name, table, tuple(keys), tuple(update), newer_than)
    built = _STATEMENTS.get(shape)
    if built is not None:
        return built
    module: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = module.insert(table)
    where = None
    if newer_than is not None:
        where = table.c[newer_than] <= statement.excluded[newer_than]
    built = _STATEMENTS[shape] = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}, where=where)
    return built


async def execute_rows(conn: AsyncConnection, key: str, build: Callable[[], ClauseElement],
                       columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Execute ``build()`` once per row of positional values, as one driver executemany.

    For the hottest inserts of ingest: SQLAlchemy's per-row parameter handling costs
    about as much as SQLite's own work there. The statement is compiled once per
    dialect and ``key``; ``columns`` must be its bound parameters in order (checked
    when compiled), and values must already be what the driver takes (int, bytes,
    bool, None), since no type processing happens.
    """
    if not rows:
        return
    cache_key = (conn.dialect.name, key)
    sql = _DRIVER_SQL.get(cache_key)
    if sql is None:
        compiled = cast(SQLCompiler, build().compile(dialect=conn.dialect))
        if tuple(compiled.positiontup or ()) != tuple(columns):
            raise ValueError(f"{key}: parameters are {compiled.positiontup}, not {tuple(columns)}")
        sql = _DRIVER_SQL[cache_key] = compiled.string
    await conn.exec_driver_sql(sql, list(rows))


async def select_in(conn: AsyncConnection, template: str, values: Sequence[Any], *,
                    chunk: int = 900) -> list[tuple[Any, ...]]:
    """Rows of ``template`` (plain SQL whose one ``{in}`` stands for "is one of ``values``").

    The hot lookups of ingest ask for a thousand keys at a time; SQLAlchemy's expanding
    ``IN`` compiles a new statement for every list length, which costs more than the
    query. Here SQLite gets ``IN (?, ?, …)`` in chunks (well under its variable limit)
    and PostgreSQL one array parameter, ``= ANY($1)``. Table names are unqualified: a
    node's PostgreSQL schema is on the connection's search_path.
    """
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        result = await conn.exec_driver_sql(template.format(**{"in": "= ANY($1)"}), (list(values),))
        return [tuple(row) for row in result.all()]
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), chunk):
        part = values[start:start + chunk]
        sql = template.format(**{"in": f"IN ({', '.join('?' * len(part))})"})
        result = await conn.exec_driver_sql(sql, tuple(part))
        rows.extend(tuple(row) for row in result.all())
    return rows


async def values_held(conn: AsyncConnection, columns: Sequence[ColumnElement[Any]], values: Sequence[Any], *,
                      chunk: int = 500) -> set[Any]:
    """Which of ``values`` stand in any of ``columns`` (of one table or several), in chunks."""
    wanted = sorted(set(values))
    held: set[Any] = set()
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        for column in columns:
            rows = await conn.execute(select(column).where(column.in_(part)).distinct())
            held.update(value for (value,) in rows.all())
    return held
