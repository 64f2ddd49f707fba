"""Home feed latency: the 40 newest posts of 500 followed authors, with 1M entries stored.

Setup (untimed, cached): 5,000 authors of 200 entries each (the corpus mix: mostly posts,
some replies, likes, follows and edits) go through ``Ingest`` into a SQLite file, plus a
viewer identity of this node that follows every tenth author (500) and wrote a few
posts itself. The database is kept in ``.bench/`` and reused while the corpus and the
schema stay the same, since building it takes minutes.

Timed: ``queries.feed`` for the viewer, 40 posts, each call on a reader connection of its
own as a request would get, 1,000 times after a warm-up. p50 is held to 5 ms; p99 is
reported. Both are printed beside the latency of the cheapest query on the same
connection (``SELECT 1``), the floor any feed request pays.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from sqlalchemy import select, text

from bench.corpus import CACHE_DIR, T0, Spec, build
from bench.results import record
from weft.core.content import encode_content
from weft.core.entry import sign_entry
from weft.core.identity import sign_op
from weft.core.ids import did_from_genesis
from weft.core.keys import SigningKey
from weft.ingest import Ingest, Offer
from weft.store import identities as identity_store
from weft.store import queries
from weft.store.database import Database, sqlite_url
from weft.store.entries import count_entries
from weft.store.migrate import HEAD, migrate
from weft.store.schema import identities

SPEC = Spec(authors=5_000, per_author=200, text_bytes=200, opening=10)
FOLLOW_EVERY = 10           # the viewer follows authors 0, 10, 20, ...: 500 of them
LIMIT = 40
CALLS = 1_000
WARM_UP = 50
P50_BOUND_MS = 5.0
BATCH = 2_000


def clock() -> int:
    return time.time_ns() // 1_000_000


def viewer_log(followed: list[str]) -> tuple[bytes, str, list[tuple[bytes, bytes]]]:
    """The viewer's genesis, DID and log: a follow of each of ``followed``, then a few posts."""
    rotation, device = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32)
    op = sign_op(rotation, prev=None, ts=T0, rotation_keys=[rotation.did],
                 devices={device.did: {"name": "viewer", "added": T0}})
    did = did_from_genesis(op.raw)
    log: list[tuple[bytes, bytes]] = []
    head = None
    contents = [{"type": "follow", "target": target} for target in followed]
    contents += [{"type": "post", "text": f"the viewer's own post {n}"} for n in range(10)]
    for seq, content in enumerate(contents, start=1):
        data = encode_content(content)
        entry = sign_entry(device, author=did, seq=seq, prev=head, ts=T0 + seq * 1_000, content=data)
        log.append((entry.raw, data))
        head = entry.id
    return op.raw, did, log


async def build_database(path: Path) -> None:
    say = print
    began = time.perf_counter()
    corpus = build(SPEC)
    say(f"signed {len(corpus.offers):,} entries of {SPEC.authors:,} authors in "
        f"{time.perf_counter() - began:.1f} s (setup)")
    op, did, log = viewer_log(corpus.dids[::FOLLOW_EVERY])
    db = await Database.open(sqlite_url(path))
    try:
        await migrate(db)
        began = time.perf_counter()
        async with Ingest(db, clock) as ingest:
            outcomes = await ingest.identity_ops([*corpus.ops, op])
            if not all(outcome.ok for outcome in outcomes):
                raise RuntimeError("identity operations refused")
            offers = [Offer(header, content) for header, content in [*corpus.offers, *log]]
            del corpus
            for start in range(0, len(offers), BATCH):
                results = await ingest.entries(offers[start:start + BATCH])
                if any(result.status != "stored" for result in results):
                    raise RuntimeError(f"not stored: {[r for r in results if r.status != 'stored'][:2]}")
        async with db.write() as conn:
            await identity_store.mark_local(conn, did)
        async with db.read() as conn:
            held = await count_entries(conn)
        say(f"ingested {held:,} entries in {time.perf_counter() - began:.0f} s (setup)")
    finally:
        await db.close()


async def viewer_row(db: Database) -> int:
    _, did, _ = viewer_log([])
    async with db.read() as conn:
        return int((await conn.execute(select(identities.c.id).where(identities.c.did == did))).scalar_one())


async def timed(db: Database, viewer: int, calls: int) -> tuple[list[float], list[float]]:
    """Milliseconds per feed call and per trivial query, each on a fresh reader connection."""
    feed_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(calls):
        began = time.perf_counter()
        async with db.read() as conn:
            posts = await queries.feed(conn, viewer, limit=LIMIT, now_ms=clock())
        feed_ms.append((time.perf_counter() - began) * 1000)
        if len(posts) != LIMIT:
            raise RuntimeError(f"the feed has {len(posts)} posts, not {LIMIT}")
        began = time.perf_counter()
        async with db.read() as conn:
            await conn.execute(text("SELECT 1"))
        floor_ms.append((time.perf_counter() - began) * 1000)
    return feed_ms, floor_ms


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run() -> None:
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"feed-{SPEC.key()}-{HEAD}.db"
    done = path.with_suffix(".complete")
    if not done.exists():
        for stale in CACHE_DIR.glob(path.name + "*"):
            stale.unlink()
        await build_database(path)
        done.touch()
    gc.collect()
    db = await Database.open(sqlite_url(path))
    try:
        viewer = await viewer_row(db)
        await timed(db, viewer, WARM_UP)
        feed_ms, floor_ms = await timed(db, viewer, CALLS)
    finally:
        await db.close()
    floor = statistics.median(floor_ms)
    record("feed_40_sqlite_p50", percentile(feed_ms, 0.5), "ms", P50_BOUND_MS, "ratio <= 1")
    record("feed_40_sqlite_p99", percentile(feed_ms, 0.99), "ms", None, "report")
    record("feed_select_1_sqlite_p50", floor, "ms", None, "floor: a trivial query on a fresh connection")
