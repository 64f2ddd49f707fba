"""Ingest throughput: entries verified and stored per second through ``Ingest.entries``.

100k entries of 1k authors (one device each; mostly ~200-byte posts, some replies,
likes, follows and edits), offered the way a replicating peer sends them: interleaved
across authors, 2000 per call, two calls in flight (the next is verified while the
last is written; ``Ingest`` writes them in the order they were offered). Once on SQLite (a
file in a temporary directory), once on PostgreSQL (a fresh schema, dropped after).
The bound is 0.6 of the Ed25519 verify rate of all cores, measured in the same run:
verification is the one cost ingest cannot avoid, so this says how much the rest
(decoding, chain checks, SQL, folding into views) takes on top.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from collections import deque
from pathlib import Path
from uuid import uuid4

from bench.corpus import Corpus, Spec, load_or_build
from bench.results import measure_verify_rates, record
from weft.ingest import Ingest, Offer, Outcome
from weft.store.database import Database, sqlite_url
from weft.store.entries import count_entries
from weft.store.migrate import migrate

SPEC = Spec(authors=1_000, per_author=100, text_bytes=200, opening=10)
BATCH = 2_000
WINDOW = 2   # calls in flight: a peer sends the next batch while this one is written
SHARE_OF_VERIFY = 0.6
PG_URL = os.environ.get("WEFT_BENCH_DATABASE_URL",
                        os.environ.get("WEFT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))


def clock() -> int:
    return time.time_ns() // 1_000_000


def check(results: list[Outcome]) -> None:
    refused = [result for result in results if result.status != "stored"]
    if refused:
        raise RuntimeError(f"{len(refused)} entries not stored, e.g. {refused[0]}")


async def ingest_corpus(db: Database, corpus: Corpus, *, batch: int = BATCH) -> float:
    """Store the corpus's identities (untimed), then its entries; seconds the entries took."""
    await migrate(db)
    offers = [Offer(header, content) for header, content in corpus.offers]
    async with Ingest(db, clock) as ingest:
        outcomes = await ingest.identity_ops(corpus.ops)
        if not all(outcome.ok for outcome in outcomes):
            raise RuntimeError(f"identity ops refused: {[o for o in outcomes if not o.ok][:3]}")
        began = time.perf_counter()
        in_flight: deque[asyncio.Task[list[Outcome]]] = deque()
        for start in range(0, len(offers), batch):
            if len(in_flight) >= WINDOW:
                check(await in_flight.popleft())
            in_flight.append(asyncio.create_task(ingest.entries(offers[start:start + batch])))
        while in_flight:
            check(await in_flight.popleft())
        elapsed = time.perf_counter() - began
    async with db.read() as conn:
        held = await count_entries(conn)
    if held != len(offers):
        raise RuntimeError(f"{held} entries held after ingesting {len(offers)}")
    return elapsed


async def ingest_sqlite(corpus: Corpus) -> float:
    with tempfile.TemporaryDirectory(prefix="weft-bench-") as tmp:
        db = await Database.open(sqlite_url(Path(tmp) / "weft.db"))
        try:
            return await ingest_corpus(db, corpus)
        finally:
            await db.close()


async def ingest_postgresql(corpus: Corpus) -> float:
    db = await Database.open(PG_URL, schema=f"bench_{uuid4().hex[:12]}")
    try:
        return await ingest_corpus(db, corpus)
    finally:
        try:
            await db.drop_schema()
        finally:
            await db.close()


async def run() -> None:
    corpus = load_or_build(SPEC, "ingest")
    # A node does not hold 100k offers in memory before it ingests them; keep the
    # collector from walking the corpus again and again while the timed part runs.
    gc.collect()
    gc.freeze()
    one_core, all_cores = measure_verify_rates(2.0)
    cores = os.cpu_count() or 1
    record("ingest_verify_1_core", one_core, "verify/s", None, "baseline")
    record(f"ingest_verify_{cores}_cores", all_cores, "verify/s", None, "baseline")
    bound = SHARE_OF_VERIFY * all_cores
    count = len(corpus.offers)
    for backend, runner in (("sqlite", ingest_sqlite), ("postgresql", ingest_postgresql)):
        elapsed = await runner(corpus)
        record(f"ingest_{backend}", count / elapsed, "entries/s", bound,
               f"ratio >= 1 ({SHARE_OF_VERIFY:g} of the {cores}-core verify rate)")
