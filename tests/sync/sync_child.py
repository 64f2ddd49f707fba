"""The receiving node of test_sync_crash, in a process of its own so that it can be killed.

    python tests/sync/sync_child.py DATA_DIR DATABASE_URL PORT SERVER_KEY_HEX

Opens the node in DATA_DIR, syncs once with the node listening on 127.0.0.1:PORT, and
prints ``stored N`` after every batch it commits and ``done RECEIVED STORED`` at the end.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from weft.config import NodeConfig
from weft.node import Node, system_clock
from weft.sync.replication import SessionStats
from weft.sync.service import SyncService


async def main(data: Path, url: str, port: int, key: bytes) -> None:
    async with Node.open(NodeConfig(data, url), clock=system_clock) as node:
        service = SyncService(node.db, node.ingest, system_clock, node.transport_key(), hops=1)

        def progress(stats: SessionStats) -> None:
            print(f"stored {stats.stored}", flush=True)

        stats = await service.sync_once("127.0.0.1", port, key, progress=progress)
        print(f"done {stats.received} {stats.stored}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])))
