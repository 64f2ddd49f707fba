"""The receiving node of bench_sync, in a process of its own so its memory and CPU are its own.

    python -m bench.sync_receiver DATA_DIR HOST PORT SERVER_KEY_HEX IDLE_SECONDS

Opens the node in DATA_DIR (its identity already follows the authors), syncs once with
the sender, then replicates live for IDLE_SECONDS with nothing new to send, and prints
one JSON line: entries, seconds, bytes read from the socket during the sync and during
the idle window, CPU seconds of the idle window, and peak RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from pathlib import Path

from weft.config import NodeConfig
from weft.node import Node
from weft.sync import secure_stream

_read_bytes = 0


def _count_reads() -> None:
    """Count every byte the TCP carrier reads: the wire, box-stream and muxrpc included."""
    original = secure_stream.TcpCarrier.read

    async def counted(self: secure_stream.TcpCarrier) -> bytes:
        global _read_bytes
        data = await original(self)
        _read_bytes += len(data)
        return data

    secure_stream.TcpCarrier.read = counted  # type: ignore[method-assign]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(data: Path, host: str, port: int, key: bytes, idle: float) -> dict[str, float]:
    _count_reads()
    async with Node.open(NodeConfig.resolve(data, None)) as node:
        service = node.sync_service(hops=1)
        began = time.perf_counter()
        stats = await service.sync_once(host, port, key)
        elapsed = time.perf_counter() - began
        synced_bytes = _read_bytes
        live = asyncio.create_task(service.replicate(host, port, key, live=True))
        await asyncio.sleep(1.0)  # connected and caught up: from here on, only idle traffic
        cpu0, bytes0 = _cpu(), _read_bytes
        await asyncio.sleep(idle)
        cpu1, bytes1 = _cpu(), _read_bytes
        live.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await live
    return {"entries": stats.stored, "received": stats.received, "seconds": elapsed,
            "payload_bytes": stats.bytes_in, "wire_bytes": synced_bytes,
            "idle_seconds": idle, "idle_cpu": cpu1 - cpu0, "idle_bytes": bytes1 - bytes0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    figures = asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4]),
                               float(sys.argv[5])))
    print(json.dumps(figures), flush=True)
