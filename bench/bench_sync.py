"""Initial sync over loopback TCP: 100k entries of 1k authors, node to a fresh node.

Setup (untimed): the sender node ingests the ingest benchmark's corpus; the receiver
node's identity follows its 1k authors. Timed, in a child process (so that its memory
and CPU are its own): the receiver's ``sync_once`` against the sender's gossip listener,
secret handshake, muxrpc and all. Figures:

- entries per second, bounded by 0.5 of the Ed25519 verify rate on all cores measured in
  the same run (the one-core rate is printed too);
- bytes on the wire per replicated entry over its canonical size (bound 1.15);
- the idle cost of the two nodes staying connected with nothing to send: CPU seconds and
  bytes per minute on the receiver (target: near zero, no polling);
- the receiver's peak RSS (the Scuttlebutt reference server holds 380 MiB doing this).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_ingest import SPEC
from bench.corpus import load_or_build
from bench.results import measure_verify_rates, record
from weft import custody
from weft.config import NodeConfig
from weft.ingest import Offer
from weft.node import Node

SHARE_OF_VERIFY = 0.5
WIRE_BOUND = 1.15
IDLE_SECONDS = 20.0


def clock() -> int:
    return time.time_ns() // 1_000_000


async def prepare_sender(data: Path, corpus) -> None:  # type: ignore[no-untyped-def]
    async with Node.open(NodeConfig.resolve(data, None), clock=clock) as node:
        await custody.init_identity(node, "sender")
        results = await node.ingest.identity_ops(corpus.ops)
        if not all(result.ok for result in results):
            raise RuntimeError("the sender refused identity operations")
        offers = [Offer(header, content) for header, content in corpus.offers]
        for start in range(0, len(offers), 2000):
            outcomes = await node.ingest.entries(offers[start:start + 2000])
            if any(outcome.status != "stored" for outcome in outcomes):
                raise RuntimeError("the sender refused entries")


async def prepare_receiver(data: Path, dids: list[str]) -> None:
    async with Node.open(NodeConfig.resolve(data, None), clock=clock) as node:
        await custody.init_identity(node, "receiver")
        for did in dids:
            await node.relate("follow", did)


async def run_sender_and_receiver(sender: Path, receiver: Path) -> dict[str, float]:
    async with Node.open(NodeConfig.resolve(sender, None), clock=clock) as node:
        service = node.sync_service(hops=1)
        server = await service.listen("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.sync_receiver", str(receiver), "127.0.0.1", str(port),
            node.transport_key().public_key.hex(), str(IDLE_SECONDS),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        out, err = await child.communicate()
        server.close()
        if child.returncode != 0:
            raise RuntimeError(f"the receiver failed: {err.decode()[-2000:]}")
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


async def run() -> None:
    corpus = load_or_build(SPEC, "ingest")
    with tempfile.TemporaryDirectory(prefix="weft-bench-sync-") as tmp:
        sender, receiver = Path(tmp) / "sender", Path(tmp) / "receiver"
        await prepare_sender(sender, corpus)
        await prepare_receiver(receiver, corpus.dids)
        one_core, all_cores = measure_verify_rates(2.0)
        figures = await run_sender_and_receiver(sender, receiver)
    cores = os.cpu_count() or 1
    if figures["entries"] < len(corpus.offers):
        raise RuntimeError(f"the receiver stored {figures['entries']} of {len(corpus.offers)} entries")
    record("sync_verify_1_core", one_core, "verify/s", None, "baseline")
    record(f"sync_verify_{cores}_cores", all_cores, "verify/s", None, "baseline")
    record("sync_100k_entries", figures["entries"] / figures["seconds"], "entries/s", SHARE_OF_VERIFY * all_cores,
           f"ratio >= 1 ({SHARE_OF_VERIFY:g} of the {cores}-core verify rate)")
    canonical = corpus.canonical_bytes + sum(len(op) for op in corpus.ops)
    record("sync_wire_over_canonical", figures["wire_bytes"] / canonical, "x canonical", WIRE_BOUND, "ratio <= 1")
    per_minute = 60.0 / figures["idle_seconds"]
    record("sync_idle_cpu", figures["idle_cpu"] * per_minute, "CPU s/min", None, "near zero")
    record("sync_idle_bytes", figures["idle_bytes"] * per_minute, "bytes/min", None, "near zero")
    record("sync_receiver_peak_rss", figures["peak_rss_mib"], "MiB", None, "report (Scuttlebutt: 380 MiB)")


