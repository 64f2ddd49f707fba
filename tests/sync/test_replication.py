"""Two nodes on loopback replicate what each follows, over the secret handshake and muxrpc."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from weft import custody
from weft.config import NodeConfig
from weft.core.ids import entry_id_text
from weft.node import Node
from weft.sync.service import SyncService


@dataclass
class Peer:
    node: Node
    sync: SyncService
    did: str
    port: int = 0


@contextlib.asynccontextmanager
async def peer(config: NodeConfig, name: str, clock, *, listen: bool = True) -> AsyncIterator[Peer]:
    async with Node.open(config, clock=clock) as node:
        did = await custody.init_identity(node, name)
        sync = SyncService(node.db, node.ingest, clock, node.transport_key())
        server = await sync.listen("127.0.0.1", 0) if listen else None
        try:
            port = server.sockets[0].getsockname()[1] if server else 0
            yield Peer(node, sync, did, port)
        finally:
            if server is not None:
                server.close()
                await server.wait_closed()


async def sync(a: Peer, b: Peer):
    return await asyncio.wait_for(
        a.sync.sync_once("127.0.0.1", b.port, b.node.transport_key().public_key), 30)


async def texts(node: Node) -> list[str | None]:
    return [post.text for post in await node.feed(limit=100)]


async def test_a_follower_gets_the_followed_posts_edits_and_deletes(any_config, clock) -> None:
    async with peer(any_config("a"), "Alice", clock) as alice, peer(any_config("b"), "Bob", clock) as bob:
        first = await alice.node.post("hello from alice")
        await alice.node.post("second")
        gone = await alice.node.post("regretted")
        clock.advance(1000)
        await alice.node.edit(_ref(first), "hello from alice, edited")
        await alice.node.delete(_ref(gone))
        await bob.node.relate("follow", alice.did)
        await bob.node.post("bob's own")
        stats = await sync(bob, alice)
        assert await texts(bob.node) == ["bob's own", "second", "hello from alice, edited"]
        assert stats.stored == stats.received > 0
        # Alice does not follow Bob: nothing of his was pushed to her.
        assert await texts(alice.node) == ["second", "hello from alice, edited"]
        again = await sync(bob, alice)
        assert again.received == 0  # only what changed moves


def _ref(entry) -> str:
    return entry_id_text(entry.id)


async def test_two_nodes_that_follow_each_other_stay_in_sync_live(any_config, clock) -> None:
    async with peer(any_config("a"), "Alice", clock) as alice, peer(any_config("b"), "Bob", clock) as bob:
        await alice.node.relate("follow", bob.did)
        await bob.node.relate("follow", alice.did)
        await alice.node.post("before we met")
        live = asyncio.create_task(bob.sync.replicate("127.0.0.1", alice.port, alice.node.transport_key().public_key,
                                                      live=True))
        try:
            await until(lambda: texts(bob.node), ["before we met"])
            await alice.node.post("while connected")
            await until(lambda: texts(bob.node), ["while connected", "before we met"])
            await bob.node.post("bob answers")
            await until(lambda: texts(alice.node), ["bob answers", "while connected", "before we met"])
        finally:
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live


async def until(read, expected, timeout: float = 5.0) -> None:
    """Wait for ``await read()`` to equal ``expected`` (live replication has no moment to wait for)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, got
        await asyncio.sleep(0.02)
