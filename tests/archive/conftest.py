"""Nodes in temporary data directories, on SQLite or (for the tests that ask) PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from weft.config import NodeConfig
from weft.node import Node
from weft.store.database import Database
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


@pytest.fixture
def make_config(tmp_path: Path) -> MakeConfig:
    """``make_config("a")``: a NodeConfig for a fresh SQLite node in ``tmp_path/a``."""
    return lambda name: NodeConfig.resolve(tmp_path / name, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_config(request: pytest.FixtureRequest, tmp_path: Path, runner: Runner) -> Iterator[MakeConfig]:
    """Like ``make_config``, once per backend; PostgreSQL nodes get schemas dropped afterwards."""
    if request.param == "sqlite":
        yield lambda name: NodeConfig.resolve(tmp_path / name, None)
        return
    url: str = request.getfixturevalue("postgres_url")
    schemas: list[str] = []

    def make(name: str) -> NodeConfig:
        schemas.append(f"t_{uuid4().hex[:12]}")
        return NodeConfig(tmp_path / name, f"{url}{'&' if '?' in url else '?'}schema={schemas[-1]}")

    yield make
    for schema in schemas:
        runner.run(_drop(url, schema))


async def _drop(url: str, schema: str) -> None:
    db = await Database.open(url, schema=schema)
    try:
        await db.drop_schema()
    finally:
        await db.close()


async def row_counts(node: Node) -> dict[str, int]:
    """Rows in every table: what 'the database is unchanged' is checked against."""
    async with node.db.read() as conn:
        return {table.name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
                for table in metadata.sorted_tables}
