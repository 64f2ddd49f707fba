"""``weft worker`` processes delivering the outbox of a node on PostgreSQL, and ``weft serve``
delivering it in-process on SQLite, to inboxes served on loopback by the test."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from tests.conftest import FakeClock
from tests.federation.fediverse_fake import FakeServer
from tests.federation.outbox_world import ENV, Inboxes, World, inboxes, world
from weft.config import NodeConfig
from weft.federation.delivery import LEASE_MS
from weft.federation.urls import actor_url
from weft.node import system_clock
from weft.store import foreign as foreign_store
from weft.store.schema import federation_deliveries

from .program import start
from .test_postgresql import pg_env  # noqa: F401 - the fixture
from .test_serve import serve, stop

FOLLOWERS = 6
POSTS = 4
EXPECTED = FOLLOWERS * (POSTS + 1)        # and the sign-up's profile Update


class WallClock(FakeClock):
    """The real time (shifted by ``offset_ms``), as the worker processes read it."""

    def __init__(self, offset_ms: int = 0) -> None:
        super().__init__()
        self.offset_ms = offset_ms

    def __call__(self) -> int:
        return system_clock() + self.offset_ms


async def prepare(w: World, boxes: Inboxes) -> None:
    """Followers of alice on 127.0.0.1 (the one host the worker processes can resolve to
    loopback), each with an inbox of their own, and posts of hers queued."""
    await w.trust_alice(boxes)
    for index in range(FOLLOWERS):
        await w.follower(f"p{index}", "127.0.0.1", boxes, shared=False)
    for index in range(POSTS):
        await w.post(f"post {index}")


async def until(w: World, done: int, processes: list[subprocess.Popen[str]], seconds: float = 90) -> None:
    """Wait for ``done`` deliveries. Long enough for one retry (the first comes 30 s after a
    failure, with jitter): on a loaded machine a POST may time out once, and the retry is
    part of what is being tested. A failure says why the rows still wait."""
    deadline = time.monotonic() + seconds
    while (await w.counts())["done"] < done:
        for process in processes:
            assert process.poll() is None, process.communicate()
        if time.monotonic() >= deadline:
            async with w.db.read() as conn:
                waiting = (await conn.execute(
                    select(federation_deliveries.c.inbox, federation_deliveries.c.attempts,
                           federation_deliveries.c.last_error)
                    .where(federation_deliveries.c.state != "done"))).all()
            raise AssertionError(f"{await w.counts()}; still waiting: {waiting}")
        await asyncio.sleep(0.1)


def worker(data: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return start(("worker", "--public-url", "https://weft.test", *args), data, {**ENV, **env})


def ended(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err, err
    return out


async def test_serve_starts_worker_processes_on_postgresql_that_send_each_delivery_once(
        tmp_path: Path, pg_env: dict[str, str]) -> None:  # noqa: F811
    clock = WallClock()
    data = tmp_path / "node"
    async with inboxes(clock) as boxes, world(NodeConfig(data, pg_env["WEFT_DATABASE_URL"]), clock) as w:
        await prepare(w, boxes)
        process, _url, _ = await asyncio.to_thread(serve, data, "--workers", "2", "--public-url",
                                                   "https://weft.test", env={**ENV, **pg_env})
        try:
            await until(w, EXPECTED, [process])
        finally:
            out, err = stop(process, signal.SIGINT)     # its workers stop with it
        assert out.count("weft worker delivering for https://weft.test (postgresql, 64 at once)") == 2
        assert out.count("stopped") == 3 and "ignored" not in err
        sent = [(r.path, r.body) for r in boxes.received]
        assert len(sent) == len(set(sent)) == EXPECTED
        assert {r.signed_by for r in boxes.received} == {"https://weft.test/users/alice#main-key"}


async def test_what_a_killed_worker_held_is_delivered_by_the_next(tmp_path: Path,
                                                                 pg_env: dict[str, str]) -> None:  # noqa: F811
    clock = WallClock()
    data = tmp_path / "node"
    async with inboxes(clock) as boxes, world(NodeConfig(data, pg_env["WEFT_DATABASE_URL"]), clock) as w:
        await prepare(w, boxes)
        boxes.gate = gate = asyncio.Event()         # nothing is answered: the worker holds its claims
        doomed = worker(data, pg_env)
        deadline = time.monotonic() + 30
        while not boxes.arrived:
            assert doomed.poll() is None and time.monotonic() < deadline, doomed.communicate()
            await asyncio.sleep(0.05)
        doomed.kill()                               # SIGKILL: no clean stop, nothing settled
        doomed.communicate(timeout=10)
        gate.set()
        boxes.gate = None
        # The next worker comes when the leases have run out (its clock moved on, not ours).
        clock.offset_ms = LEASE_MS + 60_000
        rescuer = worker(data, {**pg_env, "WEFT_CLOCK_OFFSET_MS": str(clock.offset_ms)})
        try:
            await until(w, EXPECTED, [rescuer])
        finally:
            ended(rescuer)
        counts = await w.counts()
        assert (counts["done"], counts["pending"], counts["failed"]) == (EXPECTED, 0, 0)
        assert len({(r.path, r.body) for r in boxes.received}) == EXPECTED   # each at least once


async def test_serve_on_sqlite_delivers_in_its_own_process_and_its_workers_map_the_inbox(tmp_path: Path) -> None:
    clock = WallClock()
    data = tmp_path / "node"
    async with inboxes(clock) as boxes, FakeServer.serving() as fediverse, \
            world(NodeConfig.resolve(data, None), clock) as w:
        await prepare(w, boxes)
        # In a thread: the inboxes answer on this loop while serve starts (and starts delivering).
        process, url, _ = await asyncio.to_thread(serve, data, "--workers", "2", "--public-url",
                                                  "https://weft.test", env=ENV)
        try:
            await until(w, EXPECTED, [process])
            bob = fediverse.add_actor("bob")
            note = fediverse.note(bob, "<p>mapped by a worker</p>", cc=[actor_url("https://weft.test", "alice")])
            answer = await fediverse.deliver(bob, f"{url.rstrip('/')}/inbox", fediverse.create(bob, note))
            assert answer.status_code == 202, answer.text
            deadline = time.monotonic() + 30
            while not await _held(w, note["id"]):
                assert process.poll() is None and time.monotonic() < deadline, "the note was never mapped"
                await asyncio.sleep(0.1)
        finally:
            out, _err = stop(process, signal.SIGINT)
        assert out.count("weft worker mapping the inbox of https://weft.test (sqlite;") == 2
        assert len(boxes.received) == EXPECTED


async def _held(w: World, origin: str) -> bool:
    async with w.db.read() as conn:
        return bool(await foreign_store.entries_of_origins(conn, [origin]))
