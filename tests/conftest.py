"""Fixtures every test can ask for: an event loop, a database on each backend, a fake clock.

Async tests, without a plugin
-----------------------------
We use neither pytest-asyncio nor anyio's pytest plugin. One event loop lives for the whole
session (the ``runner`` fixture, built on ``asyncio.Runner``). ``async def`` tests run on it
(the ``pytest_pyfunc_call`` hook below), and fixtures with async set-up are ordinary
fixtures that call ``runner.run(...)``. Why: database engines and connections belong to the
loop that made them, so one loop for every fixture and test removes "attached to a
different loop" failures by construction, and we avoid the plugins' loop-scope settings,
which have changed from release to release. Async fixtures (``async def`` fixtures) are
therefore not supported: write a plain fixture that calls ``runner.run``.

    async def test_a_post_is_stored(database, clock):        # runs on the session loop
        ...

    def test_with_explicit_steps(database, runner):           # or drive the loop yourself
        runner.run(some_coroutine(database))

Databases
---------
``database`` is an opened and migrated :class:`weft.store.database.Database`. A test that
asks for it runs twice, ``[sqlite]`` (a file in the test's tmp_path) and ``[postgresql]``
(a fresh schema, dropped afterwards, in the database named by ``WEFT_TEST_DATABASE_URL``,
default ``postgresql://postgres@127.0.0.1:5432/test``). ``@pytest.mark.backends("sqlite")``
limits a test to the backends it names.

Nodes
-----
``make_config("a")`` is a :class:`weft.config.NodeConfig` for a fresh SQLite node in
``tmp_path/a``; ``any_config`` is the same once per backend (PostgreSQL nodes get schemas
of their own, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from weft.accounts.passwords import use_cheap_hashes_for_tests
from weft.config import NodeConfig
from weft.store.database import Database, sqlite_url
from weft.store.migrate import migrate

T = TypeVar("T")

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL = os.environ.get("WEFT_TEST_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


class SessionLoop:
    """The one event loop of the test session."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end on the session loop and return its result.

        If the run is interrupted (pytest-timeout, Ctrl-C), the task is cancelled and
        allowed to clean up, so it cannot carry on inside the next test.
        """
        loop = self._runner.get_loop()
        task = loop.create_task(coro)
        try:
            return loop.run_until_complete(task)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    loop.run_until_complete(task)

    def close(self) -> None:
        self._runner.close()


_SESSION_LOOP = pytest.StashKey[SessionLoop]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION_LOOP] = SessionLoop()
    # Hundreds of sign-ups and logins at argon2's real cost would add a minute; the hashes
    # stay argon2id (tests/accounts checks the production profile itself).
    use_cheap_hashes_for_tests()
    config.addinivalue_line(
        "markers", "backends(*names): run a test that uses `database` only on these "
                   "backends (sqlite, postgresql)")


def pytest_unconfigure(config: pytest.Config) -> None:
    loop = config.stash.get(_SESSION_LOOP, None)
    if loop is not None:
        loop.close()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[None]:
    """Run ``async def`` tests (also under Hypothesis's ``@given``) on the session loop."""
    loop = pyfuncitem.config.stash[_SESSION_LOOP]
    test = pyfuncitem.obj
    if inspect.iscoroutinefunction(test):
        pyfuncitem.obj = _on_loop(loop, test)
    else:
        given = getattr(test, "hypothesis", None)
        if given is not None and inspect.iscoroutinefunction(given.inner_test):
            given.inner_test = _on_loop(loop, given.inner_test)
    return (yield)


def _on_loop(loop: SessionLoop, test: Any) -> Any:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        loop.run(test(*args, **kwargs))

    return run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = tuple(marker.args) if marker is not None else BACKENDS
    unknown = set(names) - set(BACKENDS)
    if unknown or not names:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: backends({', '.join(names)}): "
                                f"choose from {', '.join(BACKENDS)}")
    metafunc.parametrize("database", names, indirect=True)


@pytest.fixture(scope="session")
def runner(pytestconfig: pytest.Config) -> SessionLoop:
    """The session's event loop: ``runner.run(coro)`` runs a coroutine to its end."""
    return pytestconfig.stash[_SESSION_LOOP]


@pytest.fixture(scope="session")
def postgres_url(runner: SessionLoop) -> str:
    """The PostgreSQL the tests use, checked once: if it is down, every PostgreSQL test fails fast."""
    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        await conn.close()

    try:
        runner.run(probe())
        return POSTGRES_URL
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        problem = repr(exc)
    pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {problem}. The tests need it "
                f"(trust auth, database 'test', user postgres); start it, or set "
                f"WEFT_TEST_DATABASE_URL.", pytrace=False)


@pytest.fixture
def database(request: pytest.FixtureRequest, runner: SessionLoop,
             tmp_path: Any) -> Iterator[Database]:
    """An opened, migrated Database; parametrized over BACKENDS (see the module docstring)."""
    backend: str = request.param
    if backend == "sqlite":
        db = runner.run(Database.open(sqlite_url(tmp_path / "weft.db")))
    else:
        url = request.getfixturevalue("postgres_url")
        try:
            db = runner.run(Database.open(url, schema=f"t_{uuid4().hex[:12]}"))
        except (OSError, DBAPIError) as exc:
            pytest.fail(f"cannot open a schema in {url}: {exc}", pytrace=False)
    try:
        runner.run(migrate(db))
        yield db
    finally:
        try:
            runner.run(db.drop_schema())  # a no-op on SQLite
        finally:
            runner.run(db.close())


class FakeClock:
    """Milliseconds since the epoch that move only when the test moves them.

    Calling the clock returns the time too, so it fits wherever weft takes a
    ``Callable[[], int]`` clock (e.g. ``Ingest(db, clock)``).
    """

    START_MS = 1_800_000_000_000  # 2027-01-15T08:00:00Z

    def __init__(self, start_ms: int = START_MS) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def __call__(self) -> int:
        return self._now_ms

    def advance(self, ms: int) -> int:
        """Move by ``ms`` and return the new time."""
        self._now_ms += ms
        return self._now_ms


@pytest.fixture
def clock() -> FakeClock:
    """A fresh FakeClock at FakeClock.START_MS."""
    return FakeClock()


# -- nodes ---------------------------------------------------------------------------


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[[str], NodeConfig]:
    """``make_config("a")``: a NodeConfig for a fresh SQLite node in ``tmp_path/a``."""
    return lambda name: NodeConfig.resolve(tmp_path / name, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_config(request: pytest.FixtureRequest, tmp_path: Path, runner: SessionLoop) -> Iterator[Callable[[str], NodeConfig]]:
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


@contextlib.contextmanager
def backend_config(request: pytest.FixtureRequest, runner: SessionLoop, directory: Path,
                   backend: str) -> Iterator[NodeConfig]:
    """A NodeConfig in ``directory`` on ``backend`` ("sqlite" or "postgresql", for fixtures of a
    wider scope than ``any_config``'s); a PostgreSQL node's schema is dropped afterwards."""
    if backend == "sqlite":
        yield NodeConfig.resolve(directory, None)
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid4().hex[:12]}"
    try:
        yield NodeConfig(directory, f"{url}{'&' if '?' in url else '?'}schema={schema}")
    finally:
        runner.run(_drop(url, schema))


async def _drop(url: str, schema: str) -> None:
    db = await Database.open(url, schema=schema)
    try:
        await db.drop_schema()
    finally:
        await db.close()
