"""Nodes that gossip on loopback, for the scheduler and discovery tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from weft import custody
from weft.config import NodeConfig
from weft.node import Node
from weft.store.peers import Peer, list_peers
from weft.sync.service import SyncService
from weft.sync.shs import WEFT_NETWORK_KEY


@dataclass
class GossipNode:
    node: Node
    sync: SyncService
    did: str          # the operator's identity
    key: str          # the node's transport key (did:key)
    port: int         # the gossip listener, on 127.0.0.1


@contextlib.asynccontextmanager
async def gossip_node(config: NodeConfig, name: str, clock: Callable[[], int], *,
                      network_key: bytes = WEFT_NETWORK_KEY) -> AsyncIterator[GossipNode]:
    """A node with an identity, listening for gossip on 127.0.0.1 (a free port)."""
    async with Node.open(config, clock=clock) as node:
        did = await custody.init_identity(node, name)
        sync = SyncService(node.db, node.ingest, clock, node.transport_key(), network_key=network_key)
        server = await sync.listen("127.0.0.1", 0)
        try:
            yield GossipNode(node, sync, did, node.transport_key().did, server.sockets[0].getsockname()[1])
        finally:
            server.close()
            await server.wait_closed()


async def texts(node: Node) -> list[str | None]:
    return [post.text for post in await node.feed(limit=100)]


async def peers_of(node: Node) -> list[Peer]:
    async with node.db.read() as conn:
        return await list_peers(conn)


async def until(read: Callable[[], Awaitable[Any]], check: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """Wait for a real network event: ``await read()`` until ``check`` holds; return what was read."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check(got := await read()):
        assert asyncio.get_running_loop().time() < deadline, got
        await asyncio.sleep(0.02)
    return got
