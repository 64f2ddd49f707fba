"""A receiver killed halfway through a 10k-entry sync ends complete and consistent after a restart.

Node A (in this process) holds 10,000 entries of four authors and listens on loopback.
Node B runs in a child process (``sync_child.py``) that syncs once with A and reports
every batch it commits; after some thousands it is SIGKILLed. Its database must then be
intact, and a second sync must fetch exactly what the first did not commit (nothing
committed is sent again), leaving all 10,000 entries, every log whole and chained.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sqlalchemy import select

from weft import custody
from weft.config import NodeConfig
from weft.core.entry import decode_entry
from weft.node import Node, system_clock
from weft.store.schema import devices, entries
from weft.sync.service import SyncService

from ..store.world import Author, introduce

AUTHORS = 4
PER_AUTHOR = 2_500
TOTAL = AUTHORS * PER_AUTHOR
KILL_AFTER = 3_000            # entries B has reported committed when it is killed
CHILD = Path(__file__).with_name("sync_child.py")


def an_hour_ago() -> int:
    """Entries written in the past, so that the child's real clock never finds them early."""
    return system_clock() - 3_600_000


@contextlib.asynccontextmanager
async def sender(config: NodeConfig, authors: list[Author]) -> AsyncIterator[tuple[int, bytes]]:
    """Node A with every entry of ``authors``, listening on 127.0.0.1: (port, transport key)."""
    async with Node.open(config, clock=system_clock) as node:
        await introduce(node.ingest, *authors)
        offers = [device.post(f"entry {n} of {author.did[-6:]}: weaving, one pick at a time").offer
                  for author in authors for device in author.devices.values() for n in range(PER_AUTHOR)]
        for start in range(0, len(offers), 2_000):
            assert all(outcome.status == "stored" for outcome in await node.ingest.entries(offers[start:start + 2_000]))
        sync = SyncService(node.db, node.ingest, system_clock, node.transport_key(), hops=1)
        server = await sync.listen("127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1], node.transport_key().public_key
        finally:
            server.close()
            await server.wait_closed()


async def run_child(config: NodeConfig, port: int, key: bytes, *, kill_after: int | None) -> list[str]:
    """Run B's sync in a child process; SIGKILL it once it reports ``kill_after`` entries stored."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), str(config.data_dir), config.database_url, str(port), key.hex(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while line := (await child.stdout.readline()).decode().strip():
                lines.append(line)
                if kill_after is not None and line.startswith("stored ") and int(line.split()[1]) >= kill_after:
                    child.send_signal(signal.SIGKILL)
                    break
            await child.wait()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if kill_after is None:
        assert child.returncode == 0, (await child.stderr.read()).decode()[-3000:]
    else:
        assert child.returncode == -signal.SIGKILL, lines[-3:]
    return lines


async def prepare_receiver(config: NodeConfig, authors: list[Author]) -> None:
    async with Node.open(config, clock=an_hour_ago) as node:
        await custody.init_identity(node, "Bob")
        for author in authors:
            await node.relate("follow", author.did)


async def held(config: NodeConfig, authors: list[Author]) -> dict[str, list[tuple[int, bytes, bytes]]]:
    """B's entries of each author's device: (seq, entry id, header), in seq order."""
    keys = [device.did for author in authors for device in author.devices.values()]
    async with Node.open(config, clock=system_clock) as node, node.db.read() as conn:
        rows = (await conn.execute(select(devices.c.key, entries.c.seq, entries.c.entry_id, entries.c.header)
                                   .join(devices, devices.c.id == entries.c.device)
                                   .where(devices.c.key.in_(keys)).order_by(devices.c.key, entries.c.seq))).all()
        heads = dict((await conn.execute(select(devices.c.key, devices.c.head_seq)
                                         .where(devices.c.key.in_(keys)))).all())
    logs: dict[str, list[tuple[int, bytes, bytes]]] = {key: [] for key in keys}
    for key, seq, entry_id, header in rows:
        logs[key].append((seq, bytes(entry_id), bytes(header)))
    for key, log in logs.items():  # every log a whole prefix, chained, its head where it ends
        assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1)), key
        assert heads.get(key, 0) == len(log), key
        for (_, before, _), (_, _, header) in itertools.pairwise(log):
            assert decode_entry(header).prev == before, key
    return logs


def intact(config: NodeConfig) -> None:
    if config.database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(config.data_dir / "weft.db")) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_a_receiver_killed_halfway_resumes_and_ends_complete(
        make_config: Callable[[str], NodeConfig], any_config: Callable[[str], NodeConfig]) -> None:
    authors = [Author(an_hour_ago, "phone") for _ in range(AUTHORS)]
    receiver = any_config("b")
    await prepare_receiver(receiver, authors)
    async with sender(make_config("a"), authors) as (port, key):
        await run_child(receiver, port, key, kill_after=KILL_AFTER)
        intact(receiver)
        committed = sum(len(log) for log in (await held(receiver, authors)).values())
        assert KILL_AFTER <= committed < TOTAL, committed   # killed halfway, as meant

        lines = await run_child(receiver, port, key, kill_after=None)
        received, stored = map(int, lines[-1].removeprefix("done ").split())
        assert received == stored == TOTAL - committed   # resumed where the commits ended: nothing sent twice
    intact(receiver)
    logs = await held(receiver, authors)
    assert [len(log) for log in logs.values()] == [PER_AUTHOR] * AUTHORS
