"""A node killed in the middle of ingesting loses nothing it said was stored, and heals.

A child process ingests 40 batches of entries, printing a line after each batch it was
told is stored; the test SIGKILLs it while it is writing. Afterwards: every batch it
reported is held, every device log is contiguous from seq 1 to its recorded head (no
half-written batch), the database passes its own integrity check, and offering
everything again completes the logs.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

from weft.ingest import Ingest
from weft.store.database import Database
from weft.store.schema import devices, entries

from ..store.world import Author, introduce, offer

BATCHES = 40
PER_BATCH = 250

CHILD = """
import asyncio, pickle, sys
from weft.ingest import Ingest, Offer
from weft.store.database import Database

async def main(url, schema, path, now):
    with open(path, "rb") as handle:
        batches = pickle.load(handle)
    db = await Database.open(url, schema=schema or None)
    async with Ingest(db, lambda: now) as ingest:
        for number, batch in enumerate(batches):
            outcomes = await ingest.entries([Offer(h, c) for h, c in batch])
            assert all(o.status == "stored" for o in outcomes), outcomes[:2]
            print(f"stored {number}", flush=True)
    print("finished", flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_a_killed_writer_leaves_whole_batches_and_heals(database: Database, clock, tmp_path: Path) -> None:
    authors = [Author(clock) for _ in range(20)]
    logs = [[author.phone.post(f"{n}:{i} " + "words " * 40) for i in range(BATCHES * PER_BATCH // 20)]
            for n, author in enumerate(authors)]
    # Batches interleave the logs, as a peer would send them.
    flat = [log[i] for i in range(len(logs[0])) for log in logs]
    batches = [flat[i:i + PER_BATCH] for i in range(0, len(flat), PER_BATCH)]
    path = tmp_path / "batches.pickle"
    path.write_bytes(pickle.dumps([[(s.entry.raw, s.content) for s in batch] for batch in batches]))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, *authors)

    reported: list[int] = []
    with subprocess.Popen(
            [sys.executable, "-c", CHILD, database.url.render_as_string(hide_password=False),
             database.schema or "", str(path), str(clock())],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}) as child:
        assert child.stdout is not None and child.stderr is not None
        deadline = time.monotonic() + 120
        while len(reported) < 5 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            reported.append(int(line.split()[1]))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        problems = child.stderr.read()
    assert len(reported) >= 5, problems

    async with database.read() as conn:
        if database.dialect == "sqlite":
            assert (await conn.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
        held = {row[0] for row in (await conn.execute(select(entries.c.entry_id))).all()}
        gaps = (await conn.execute(
            select(devices.c.key, devices.c.head_seq, func.count(entries.c.id), func.max(entries.c.seq))
            .join(entries, entries.c.device == devices.c.id).group_by(devices.c.id))).all()
    for number in reported:
        assert {s.id for s in batches[number]} <= held, f"batch {number} was reported stored but is not held"
    assert all(head == count == top for _, head, count, top in gaps), gaps
    assert len(held) % PER_BATCH == 0, "a batch was half written"
    assert len(held) < len(flat), "the child finished before it was killed: nothing was tested"

    async with Ingest(database, clock) as ingest:
        outcomes = await offer(ingest, *flat)
    assert {o.status for o in outcomes} <= {"stored", "duplicate"}
    async with database.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(entries))).scalar_one() == len(flat)
