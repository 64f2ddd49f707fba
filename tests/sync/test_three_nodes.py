"""Replication across nodes that never meet: A — B — C on loopback, A and C never connected.

What makes B carry A's posts (docs/protocol/replication.md section 1): B's user follows
Carol, and Carol follows Alice, so Alice is two hops from B (the default ``hops`` is 2). B
stores and forwards her logs without showing them in its home feed, since B's user does
not follow her. Carol also follows Bob, which gives the tests a way to know that B has
sent C everything it was going to (see ``barrier``).

A and C listen; B dials both and keeps live sessions, redialling when one drops, as the
peer scheduler does in a running node.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from weft import custody
from weft.config import NodeConfig
from weft.core.entry import decode_entry
from weft.core.ids import entry_id_bytes
from weft.errors import NotFound, RpcProtocolError, TransportError
from weft.node import Node
from weft.store.entries import device_heads
from weft.store.schema import entries, identities
from weft.sync.replication import ReplicationSession, SessionStats
from weft.sync.rpc_connection import StreamFailed
from weft.sync.service import SyncService

from ..conftest import FakeClock
from ..store.world import Author, admit, introduce
from .raw_peer import RawPeer


@dataclass
class Peer:
    config: NodeConfig
    node: Node
    sync: SyncService
    did: str
    port: int = 0

    @property
    def key(self) -> bytes:
        return self.node.transport_key().public_key


@contextlib.asynccontextmanager
async def running(config: NodeConfig, name: str, clock: FakeClock, *, listen: bool = False) -> AsyncIterator[Peer]:
    """A node on ``config``'s data directory (made on first use), listening on 127.0.0.1 if asked."""
    async with Node.open(config, clock=clock) as node:
        did = node.local().did if node.has_identity() else await custody.init_identity(node, name)
        sync = SyncService(node.db, node.ingest, clock, node.transport_key())
        server = await sync.listen("127.0.0.1", 0) if listen else None
        try:
            yield Peer(config, node, sync, did, server.sockets[0].getsockname()[1] if server else 0)
        finally:
            if server is not None:
                server.close()
                await server.wait_closed()


@contextlib.asynccontextmanager
async def dialing(peer: Peer, *targets: Peer) -> AsyncIterator[None]:
    """``peer`` keeps a live session with each target, dialling again when one drops."""
    async def keep(target: Peer) -> None:
        while True:
            with contextlib.suppress(OSError, TransportError, RpcProtocolError, StreamFailed):
                await peer.sync.replicate("127.0.0.1", target.port, target.key, live=True)
            await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(keep(target)) for target in targets]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(read: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 10.0) -> None:
    """Wait for ``await read()`` to equal ``expected``: live replication has no moment to wait for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, got
        await asyncio.sleep(0.02)


async def texts(node: Node) -> list[str | None]:
    return [post.text for post in await node.feed(limit=100)]


async def stored_of(node: Node, did: str) -> int:
    """How many entries of ``did`` the node holds."""
    async with node.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(entries)
                                       .join(identities, identities.c.id == entries.c.author)
                                       .where(identities.c.did == did))).scalar_one())


async def holds(node: Node, entry_id: bytes) -> bool:
    async with node.db.read() as conn:
        return (await conn.execute(select(entries.c.id).where(entries.c.entry_id == entry_id))).first() is not None


def session_with(peer: Peer, other: Peer) -> ReplicationSession | None:
    return next((s for s in peer.sync.sessions if s.stream.connection.peer == other.node.transport_key().did), None)


async def barrier(b: Peer, c: Peer, text: str) -> None:
    """B posts, and C has it: B's live session sends in order, so whatever B would have sent
    C before this post has been sent (and C has taken it) by now."""
    await b.node.post(text)
    await until(lambda: _has_text(c.node, text), True)


async def _has_text(node: Node, text: str) -> bool:
    return text in await texts(node)


async def test_a_post_travels_a_to_c_through_b_heals_when_b_restarts_and_stops_at_a_block(
        any_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with running(any_config("a"), "Alice", clock, listen=True) as a, \
            running(any_config("c"), "Carol", clock, listen=True) as c:
        b_config = any_config("b")
        async with running(b_config, "Bob", clock) as b:
            await c.node.relate("follow", a.did)
            await b.node.relate("follow", c.did)
            await c.node.relate("follow", b.did)
            async with dialing(b, a, c):
                hello = await a.node.post("hello from alice")
                await until(lambda: texts(c.node), ["hello from alice"])
                # Two hops from Bob: stored and forwarded, not shown in his home feed.
                assert await holds(b.node, hello.id)
                assert await texts(b.node) == []

        # B is gone, and A goes on posting.
        await a.node.post("while bob was away")

        async with running(b_config, "Bob", clock) as b, dialing(b, a, c):  # the same data directory
            await until(lambda: texts(c.node), ["while bob was away", "hello from alice"])

            # C blocks A: C purges what it held of her, stops asking B for her logs ...
            await c.node.relate("block", a.did)
            await until(lambda: stored_of(c.node, a.did), 0)
            await until(lambda: _wants_of(b, c, a), False)
            # ... and nothing she writes reaches C any more, though B still carries it.
            after = await a.node.post("after the block")
            await until(lambda: holds(b.node, after.id), True)
            await barrier(b, c, "bob was here")
            assert await stored_of(c.node, a.did) == 0

        # C does not forward her logs either: D follows A and syncs with C alone.
        async with running(any_config("d"), "Dave", clock) as d:
            await d.node.relate("follow", a.did)
            stats = await d.sync.sync_once("127.0.0.1", c.port, c.key)
            assert stats.received == 0
            assert await stored_of(d.node, a.did) == 0
            with pytest.raises(NotFound):  # not even her identity log, which C keeps
                await d.node.state(a.did)


async def _wants_of(b: Peer, c: Peer, a: Peer) -> bool:
    """Whether C's session with B (as B sees it) asks for any log of A."""
    session = session_with(b, c)
    if session is None:
        return True  # not connected yet: say nothing
    state = await a.node.state(a.did)
    return bool(session.peer_wants & {a.did, *state.devices})


async def test_content_that_was_deleted_or_expired_is_not_sent_by_its_author_or_a_relay(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with running(make_config("a"), "Alice", clock, listen=True) as a, \
            running(make_config("b"), "Bob", clock, listen=True) as b:
        await b.node.relate("follow", a.did)
        kept = await a.node.post("kept")
        fleeting = await a.node.post("fleeting", expires_in_ms=60_000)
        regretted = await a.node.post("regretted")
        await b.sync.sync_once("127.0.0.1", a.port, a.key)
        assert await holds(b.node, regretted.id)  # B holds all three, content and all
        await a.node.delete(regretted.id_text)
        await b.sync.sync_once("127.0.0.1", a.port, a.key)   # B gets the delete
        clock.advance(120_000)                                 # and "fleeting" expires everywhere

        for source in (a, b):
            sent = await _everything_sent_of(source, a)
            assert sent[kept.id] is not None
            assert sent[fleeting.id] is None, "expired content was sent"
            assert sent[regretted.id] is None, "deleted content was sent"


async def _everything_sent_of(source: Peer, author: Peer) -> dict[bytes, bytes | None]:
    """What ``source`` sends a peer that asks for all of ``author``'s logs: entry id -> content."""
    device = author.node.local().device.did
    async with RawPeer.connect(source.port, source.key) as peer:
        await peer.send_clock({author.did: ""}, {device: 0})
        async with source.node.db.read() as conn:
            seq = (await device_heads(conn, [device]))[device].head_seq
        await peer.expect(lambda p: len(p.entries) >= seq)
        return {entry_id_bytes(header): content for header, content in peer.entries
                if decode_entry(header).device == device}


async def test_a_reconnect_announces_only_the_logs_that_changed(make_config: Callable[[str], NodeConfig],
                                                                  clock: FakeClock) -> None:
    async with running(make_config("a"), "Alice", clock, listen=True) as a, \
            running(make_config("b"), "Bob", clock) as b:
        authors = [Author(clock, "phone") for _ in range(3)]
        await introduce(a.node.ingest, *authors)
        for author in authors:
            await admit(a.node.ingest, author.phone.post("one"), author.phone.post("two"))
            await b.node.relate("follow", author.did)
        await b.node.relate("follow", a.did)

        async def sync(service: SyncService) -> SessionStats:
            return await asyncio.wait_for(service.sync_once("127.0.0.1", a.port, a.key), 10)

        first = await sync(b.sync)
        assert first.received == 2 * len(authors) + 1  # their posts and Alice's profile
        logs = 2 * (len(authors) + 2)   # identity and device log of each author, Alice and Bob himself
        assert first.announced == logs

        await admit(a.node.ingest, authors[0].phone.post("three"))
        await b.node.post("bob's own")
        second = await sync(b.sync)
        assert second.announced == 1   # Bob's own log moved; nothing else did
        assert second.received == 1 and second.sent == 0

        forgetful = SyncService(b.node.db, b.node.ingest, clock, b.node.transport_key())
        third = await sync(forgetful)  # B forgot A (a restart): it announces everything again
        assert third.announced == logs
        assert third.received == 0

        # A forgets B (a restart): B's change since their last session cannot be applied;
        # A asks for all of B's clock, and the sync still ends with what changed.
        a.sync = SyncService(a.node.db, a.node.ingest, clock, a.node.transport_key())
        server = await a.sync.listen("127.0.0.1", 0)
        a.port = server.sockets[0].getsockname()[1]
        try:
            await admit(a.node.ingest, authors[1].phone.post("three"))
            fourth = await sync(b.sync)
            assert fourth.announced == 0 + logs   # nothing changed on B's side, then the whole clock
            assert fourth.received == 1
        finally:
            server.close()
            await server.wait_closed()
