"""Shared-inbox ingest: signed Create(Note) activities verified and stored per second.

A node (``weft serve`` in its own process, one uvicorn worker, federation on;
bench/inbox_node.py) hosts alice, who follows eight remote actors (eight hosts, each
actor with its RSA-2048 key). The actors live in this process, on a small server
(bench/inbox_senders.py) the node fetched them from while the benchmark prepared its
data, so their keys are already stored, as a busy inbox finds them. Before timing, each actor's deliveries are built and signed as
Mastodon signs (draft-cavage rsa-sha256 over ``(request-target) host date digest``): a
Create(Note) of about 500 bytes of HTML, some naming alice, some with a hashtag.

Timed, in the same run:
- the bound: RSA-2048 PKCS#1 v1.5 verifications per second on one thread (cryptography);
- the trivial endpoint: ``GET /api/health`` of the same server, eight keep-alive
  connections, for a few seconds;
- the inbox: the eight actors each deliver their Creates to ``POST /inbox`` on a
  connection of their own, one after another as senders do. A 202 means the activity is
  verified and kept in the inbox queue (decision 0010); the figure is activities *stored*
  per second: from the first request until the queue is empty, every post mapped and
  ingested. Afterwards every one of them must be held: none lost, none refused. How fast
  the 202s came is printed beside it, for information.
- each twice (``WEFT_BENCH_INBOX_WORKERS``, default "0 1"): ``weft serve`` mapping the
  inbox in its own process, and ``weft serve --workers 1``, which leaves the mapping to a
  ``weft worker`` process (the machine's second core). CPU is counted over both.

Both loads go through the same client (a lean HTTP/1.1 client sending prepared bytes,
bench/inbox_senders.py), so the ratio says what verifying and storing cost beside HTTP
and the framework. The target is 0.25 of the trivial endpoint. On SQLite, and on
PostgreSQL too when it answers at 127.0.0.1:5432 (database ``test``, a schema of its own).

For scale, on the machine this was written on, a C server (snac2) stores about 490 such
activities per second, and a Python one (microblog.pub) accepts about 150 per second but
stores about 2.

Run alone: ``.venv/bin/python -m bench inbox`` (``WEFT_BENCH_INBOX_BACKENDS=sqlite`` for one
backend; ``WEFT_BENCH_PROFILE=DIR`` runs the server under cProfile).

Figures on that machine (2 CPUs shared with other work, so they move by up to half between
runs), activities stored per second against the trivial endpoint's requests per second:

- first run: SQLite 85 against 5,255 (ratio 0.016), PostgreSQL 39 against 3,069 (0.013);
  RSA-2048 verifications 32,895/s. The server spent 9.5 ms of CPU on each activity, most
  of it in database round trips: SQLAlchemy on aiosqlite costs about 250 µs of CPU a
  statement here (two trivial requests' worth; each statement is three or four trips to
  the driver's thread and back), each activity came with ~10 statements and three read
  transactions, and eight deliveries holding a reader each made the reader pool open and
  close a new connection (a thread, seven PRAGMAs) for most reads.
- with senders' keys and actors held in memory, the mapping's reads grouped across the
  activities mapped at once (one read transaction for several), and a Create's questions
  read at once: SQLite 193-257 against 5,880-9,375 (0.021-0.044), PostgreSQL 213-255
  against 6,118-7,937 (0.027-0.042); RSA-2048 48,000/s; 2.5-4.9 ms of CPU an activity.

What was left was mostly ingest's write transaction (about 20 statements for a batch of
four activities: five a delivery) and a share of one grouped read: ~6 statements an
activity. Eight senders waiting for their answers never made a bigger batch.

- with the inbox queue (the inbox keeps what it verified and answers; a drainer maps and
  ingests hundreds at once; the queue beside SQLite in a file of its own, added to in one
  trip to a thread; the inbox reading only the envelope; the mapping's hot spots cut):
  see the figures of the issue's closing note, and bench-results.json.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.bench_httpsig import rates
from bench.inbox_node import ServedNode, environment, free_port, prepare, serve_senders
from bench.inbox_senders import LoadResult, Sender, SenderServer, get_request, load, signed_post
from bench.results import record
from weft.config import NodeConfig
from weft.store import foreign as foreign_store
from weft.store import inbox_queue as inbox_queue_store
from weft.store.database import Database, sqlite_url

SENDERS: Final = 8
# The inbox takes at most 300 deliveries from one host in a burst (weft.federation.inbox):
# each actor lives on a host of its own and stays under it (its Accept, then its Creates).
PER_SENDER: Final = 280
MENTION_EVERY: Final = 4
TRIVIAL_SECONDS: Final = 6.0
TARGET: Final = 0.25
# WEFT_BENCH_INBOX_BACKENDS=sqlite runs one of them (e.g. while profiling).
BACKENDS: Final = os.environ.get("WEFT_BENCH_INBOX_BACKENDS", "sqlite postgresql").split()
# `weft serve --workers N` for each N: 0 maps the inbox in the serving process, 1 in a
# `weft worker` process of its own (the second core).
WORKERS: Final = [int(n) for n in os.environ.get("WEFT_BENCH_INBOX_WORKERS", "0 1").split()]
POSTGRES_URL: Final = os.environ.get("WEFT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _rsa_verify_rate() -> float:
    sender = Sender("v.test", "v")
    message = b"(request-target): post /inbox\nhost: weft.example\ndate: x\ndigest: SHA-256=y" * 2
    signature = sender.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public = sender.key.public_key()

    def verify() -> None:
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

    return rates(verify)[0]


def _check(result: LoadResult, status: int, what: str) -> None:
    if set(result.statuses) != {status}:
        raise RuntimeError(f"{what}: answers {result.statuses}, expected all {status}")


async def _stored(config: NodeConfig, origins: list[str]) -> int:
    db = await Database.open(config.database_url)
    try:
        async with db.read() as conn:
            return len(await foreign_store.entries_of_origins(conn, origins))
    finally:
        await db.close()


async def _drained(config: NodeConfig) -> None:
    """Until the node's inbox queue holds nothing waiting: every activity answered is mapped."""
    db = await Database.open(config.database_url)
    queue = await inbox_queue_store.open_queue(db)
    try:
        while (await queue.transaction(inbox_queue_store.counts))["waiting"]:
            await asyncio.sleep(0.02)
    finally:
        await queue.close()
        await db.close()


@dataclass
class _Figures:
    trivial_rate: float
    inbox: LoadResult
    stored_seconds: float       # from the first delivery until every one is mapped and stored


async def _timed(label: str, served: ServedNode, config: NodeConfig, url_host: str,
                 queues: list[list[bytes]]) -> _Figures:
    """The trivial endpoint (half before the inbox's load, half after, so that a neighbour's
    load on a shared machine falls on both alike), then the inbox; CPU time on each side."""
    health = get_request(url_host, "/api/health")
    client_cpu, server_cpu = time.process_time(), served.cpu_seconds()
    before = await load(served.port, repeat=health, seconds=TRIVIAL_SECONDS / 2)
    trivial_client, trivial_server = time.process_time() - client_cpu, served.cpu_seconds() - server_cpu
    split = served.cpu_split()
    began = time.perf_counter()
    inbox = await load(served.port, queues)
    await _drained(config)
    stored_seconds = time.perf_counter() - began
    serving, working = (after - before for after, before in zip(served.cpu_split(), split, strict=True))
    inbox_server = serving + working
    client_cpu, server_cpu = time.process_time(), served.cpu_seconds()
    after = await load(served.port, repeat=health, seconds=TRIVIAL_SECONDS / 2)
    trivial_client += time.process_time() - client_cpu
    trivial_server += served.cpu_seconds() - server_cpu
    for result, what in ((before, "GET /api/health"), (after, "GET /api/health"), (inbox, "POST /inbox")):
        _check(result, 202 if result is inbox else 200, what)
    requests, seconds = before.requests + after.requests, before.seconds + after.seconds
    print(f"{label}: trivial endpoint {before.rate:,.0f} req/s before the inbox's load, {after.rate:,.0f} after; "
          f"the client used {trivial_client / seconds:.0%} of a core, the server "
          f"{trivial_server / requests * 1e6:.0f} µs of CPU a request")
    if served.cpu_seconds():
        print(f"{label}: the server used {inbox_server / inbox.requests * 1e6:.0f} µs of CPU an activity "
              f"({inbox_server / stored_seconds:.0%} of a core until all were stored)"
              + (f": {serving / inbox.requests * 1e6:.0f} µs serving, {working / inbox.requests * 1e6:.0f} µs "
                 f"in the workers" if working else ""))
    print(f"{label}: {inbox.requests} deliveries answered 202 in {inbox.seconds:.2f} s ({inbox.rate:,.0f}/s); "
          f"all mapped and stored {stored_seconds:.2f} s after the first")
    return _Figures(requests / seconds, inbox, stored_seconds)


async def _one_backend(label: str, config: NodeConfig, senders: list[Sender], server: SenderServer,
                       env: dict[str, str], work: Path, rsa_rate: float, *, workers: int = 0) -> None:
    port = free_port()
    url_host = f"127.0.0.1:{port}"
    alice = (f"http://{url_host}/users/alice", f"alice@{url_host}")
    await prepare(config, f"http://{url_host}", senders, env)
    served = ServedNode(config, port, env, work / f"serve-{label}.log", workers=workers)
    try:
        await served.started()
        follows_before = server.received
        accepts = [[signed_post(url_host, "/inbox", sender, sender.accept(alice[0]))] for sender in senders]
        _check(await load(port, accepts), 202, "the senders' Accepts")
        deadline = time.monotonic() + 60           # the node's Follows out of its outbox first
        while server.received < follows_before + SENDERS and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

        began = time.perf_counter()
        notes = [[sender.create_note(number, alice if number % MENTION_EVERY == 0 else None)
                  for number in range(1, PER_SENDER + 1)] for sender in senders]
        queues = [[signed_post(url_host, "/inbox", sender, note) for note in sender_notes]
                  for sender, sender_notes in zip(senders, notes, strict=True)]
        print(f"{label}: signed {SENDERS * PER_SENDER} deliveries in {time.perf_counter() - began:.1f} s (untimed)")
        figures = await _timed(label, served, config, url_host, queues)
    except Exception:
        print(f"{label}: the server's log ends:\n{served.log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        served.stop()
    inbox = figures.inbox
    stored = await _stored(config, [note["object"]["id"] for sender_notes in notes for note in sender_notes])
    if stored != inbox.requests:
        raise RuntimeError(f"{label}: {inbox.requests} deliveries answered 202 but {stored} posts are held")
    rate = stored / figures.stored_seconds
    print(f"{label}: {stored} of {inbox.requests} activities held: {rate:,.0f} stored/s, "
          f"{rate / figures.trivial_rate:.3f} of the trivial endpoint (target {TARGET}); "
          f"{rate / rsa_rate:.2%} of the RSA-2048 bound")
    record(f"inbox_trivial_endpoint_rps_{label}", figures.trivial_rate, "req/s", None,
           "baseline: GET /api/health, same server, same client, 8 connections")
    record(f"inbox_create_note_answered_per_s_{label}", inbox.rate, "activities/s", figures.trivial_rate,
           "verified and kept in the inbox queue (202), not yet mapped: for information")
    record(f"inbox_create_note_stored_per_s_{label}", rate, "activities/s", figures.trivial_rate,
           f"ratio >= {TARGET} (of the trivial endpoint)")


async def _postgres_config(work: Path) -> NodeConfig | None:
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema=bench_inbox_{uuid.uuid4().hex[:8]}"
    try:
        db = await Database.open(url)
        await db.close()
    except Exception as error:  # noqa: BLE001 - any failure to connect means: no PostgreSQL figure
        print(f"PostgreSQL at {POSTGRES_URL} is not there ({error}); its figure is left out")
        return None
    return NodeConfig(work / f"data-{url.rsplit('=', 1)[1]}", url)


async def _drop_schema(config: NodeConfig) -> None:
    db = await Database.open(config.database_url)
    try:
        await db.drop_schema()
    finally:
        await db.close()


async def run() -> None:
    rsa_rate = _rsa_verify_rate()
    record("inbox_rsa2048_verify_1_thread", rsa_rate, "verify/s", None, "baseline: cryptography, one thread")
    actor_port = free_port()
    senders = [Sender(f"s{number}.test:{actor_port}", f"u{number}") for number in range(SENDERS)]
    env = environment(senders)
    os.environ.update(env)   # the node opened here must find the same node secret as weft serve
    server = SenderServer(senders)
    with tempfile.TemporaryDirectory(prefix="weft-bench-inbox-") as scratch:
        work = Path(scratch)
        async with serve_senders(server.app, actor_port):
            for workers in WORKERS:
                suffix = "" if workers == 0 else f"_{workers}_worker"
                if "sqlite" in BACKENDS:
                    sqlite = work / f"data-sqlite{suffix}"
                    await _one_backend(f"sqlite{suffix}", NodeConfig(sqlite, sqlite_url(sqlite / "weft.db")), senders,
                                       server, env, work, rsa_rate, workers=workers)
                postgres = await _postgres_config(work) if "postgresql" in BACKENDS else None
                if postgres is not None:
                    try:
                        await _one_backend(f"postgresql{suffix}", postgres, senders, server, env, work, rsa_rate,
                                           workers=workers)
                    finally:
                        await _drop_schema(postgres)
