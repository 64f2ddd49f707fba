"""Bytes on disk per stored 1 KiB post, over its canonical size (signed header plus content).

20,000 posts of 1 KiB text from 200 authors go through ``Ingest`` into a fresh database.
What they add to it, everything included (the entries table with header and content, the
posts view, and every index), is divided by the sum of their canonical sizes. On SQLite
that is the growth of used pages after the WAL is checkpointed (free pages are not
counted); on PostgreSQL, of ``pg_total_relation_size`` over the node's tables after
VACUUM. The bound is 1.6; the Scuttlebutt reference server, for comparison, stores
about 1.1 to 1.4 KB per 640-byte message (1.7 to 2.2).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from sqlalchemy import text

from bench.corpus import Spec, build
from bench.results import record
from weft.ingest import Ingest, Offer
from weft.store.database import Database, sqlite_url
from weft.store.maintenance import checkpoint
from weft.store.migrate import migrate

# Posts only: the figure is about a post's cost, not the mix's.
SPEC = Spec(authors=200, per_author=100, text_bytes=1024, opening=100, mix=(("post", 1.0),))
BOUND = 1.6
PG_URL = os.environ.get("WEFT_BENCH_DATABASE_URL",
                        os.environ.get("WEFT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))


def clock() -> int:
    return time.time_ns() // 1_000_000


async def used_bytes(db: Database) -> int:
    if db.dialect == "sqlite":
        await checkpoint(db)
        async with db.read() as conn:
            pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
            free = (await conn.execute(text("PRAGMA freelist_count"))).scalar_one()
            size = (await conn.execute(text("PRAGMA page_size"))).scalar_one()
        return int((pages - free) * size)
    async with db.writer.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        total = (await conn.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind = 'r'"), {"schema": db.schema})).scalar_one()
    return int(total)


async def measure(db: Database) -> float:
    corpus = build(SPEC)
    await migrate(db)
    async with Ingest(db, clock) as ingest:
        outcomes = await ingest.identity_ops(corpus.ops)
        if not all(outcome.ok for outcome in outcomes):
            raise RuntimeError("identity operations refused")
        # The authors and their first post are the baseline: the figure is what posts add.
        firsts = corpus.offers[:SPEC.authors]
        rest = corpus.offers[SPEC.authors:]
        await ingest.entries([Offer(h, c) for h, c in firsts])
        before = await used_bytes(db)
        for start in range(0, len(rest), 2_000):
            results = await ingest.entries([Offer(h, c) for h, c in rest[start:start + 2_000]])
            if any(result.status != "stored" for result in results):
                raise RuntimeError("posts not stored")
    after = await used_bytes(db)
    canonical = sum(len(header) + len(content) for header, content in rest)
    return (after - before) / canonical


async def run() -> None:
    with tempfile.TemporaryDirectory(prefix="weft-bench-") as tmp:
        db = await Database.open(sqlite_url(Path(tmp) / "weft.db"))
        try:
            ratio = await measure(db)
        finally:
            await db.close()
    record("disk_per_1k_post_sqlite", ratio, "x canonical", BOUND, "ratio <= 1")
    db = await Database.open(PG_URL, schema=f"bench_{uuid4().hex[:12]}")
    try:
        ratio = await measure(db)
    finally:
        try:
            await db.drop_schema()
        finally:
            await db.close()
    record("disk_per_1k_post_postgresql", ratio, "x canonical", BOUND, "ratio <= 1")
