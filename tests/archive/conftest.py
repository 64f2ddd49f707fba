"""Nodes in temporary data directories, on SQLite or (for the tests that ask) PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select

from weft.config import NodeConfig
from weft.node import Node
from weft.store.schema import metadata

MakeConfig = Callable[[str], NodeConfig]
T = TypeVar("T")


class Clock(Protocol):
    """The shared ``clock`` fixture (tests/conftest.py FakeClock), as these tests use it."""

    def __call__(self) -> int: ...
    def now_ms(self) -> int: ...
    def advance(self, ms: int) -> int: ...


class Runner(Protocol):
    """The shared ``runner`` fixture: runs a coroutine on the session's event loop."""

    def run(self, coro: Coroutine[Any, Any, T]) -> T: ...


async def row_counts(node: Node) -> dict[str, int]:
    """Rows in every table: what 'the database is unchanged' is checked against."""
    async with node.db.read() as conn:
        return {table.name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
                for table in metadata.sorted_tables}
