"""The scheduler keeps a node in live replication with the peers in its table, and backs off
from those that fail. Every node listens on 127.0.0.1; time is a fake clock moved by hand."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.core.keys import SigningKey
from weft.store.peers import add_peer
from weft.sync.backoff import (
    BACKOFF_BASE_MS,
    BACKOFF_CAP_MS,
    RECONNECT_MS,
    backoff_ms,
    reconnect_ms,
)
from weft.sync.muxrpc_events import Request
from weft.sync.rpc_connection import RpcConnection, RpcStream
from weft.sync.scheduler import PeerScheduler
from weft.sync.secure_stream import SecureStream, serve

from .gossip import gossip_node, peers_of, texts, until

NO_JITTER = 0.0


def fixed(value: float):
    return lambda: value


# -- the backoff rule --------------------------------------------------------------------


def test_a_failing_peer_waits_5_s_then_twice_as_long_each_time_up_to_an_hour() -> None:
    waits = [backoff_ms(failures, NO_JITTER) for failures in range(1, 14)]
    assert waits[:5] == [5_000, 10_000, 20_000, 40_000, 80_000]
    assert waits[-1] == BACKOFF_CAP_MS == 3_600_000
    assert backoff_ms(10_000, NO_JITTER) == BACKOFF_CAP_MS      # no overflow after a year of failures


def test_jitter_takes_up_to_a_fifth_off_and_never_passes_the_cap() -> None:
    assert backoff_ms(1, 0.5) == 4_500
    assert backoff_ms(1, 0.999_999) == 4_000 + 1
    assert backoff_ms(30, 0.999_999) > 0.8 * BACKOFF_CAP_MS


@given(st.integers(1, 200), st.floats(0, 1, exclude_max=True))
def test_every_wait_is_between_80_percent_of_its_step_and_the_step(failures: int, random: float) -> None:
    step = min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** min(failures - 1, 40))
    wait = backoff_ms(failures, random)
    assert 0.8 * step <= wait <= step <= BACKOFF_CAP_MS
    assert backoff_ms(failures + 1, random) >= wait


def test_a_peer_that_hung_up_cleanly_is_called_back_after_about_10_s() -> None:
    assert reconnect_ms(NO_JITTER) == RECONNECT_MS == 10_000
    assert 8_000 < reconnect_ms(0.99) < 10_000


@pytest.mark.parametrize(("failures", "random"), [(0, 0.0), (1, 1.0), (1, -0.1)])
def test_the_backoff_rule_refuses_arguments_out_of_range(failures: int, random: float) -> None:
    with pytest.raises(ValueError):
        backoff_ms(failures, random)


# -- the scheduler with real nodes ---------------------------------------------------------


async def test_a_peer_in_the_table_is_dialled_and_posts_flow_live(make_config, clock) -> None:
    async with gossip_node(make_config("a"), "Alice", clock) as alice, \
            gossip_node(make_config("b"), "Bob", clock) as bob:
        await bob.node.relate("follow", alice.did)
        await alice.node.post("before the scheduler")
        async with bob.node.db.write() as conn:
            await add_peer(conn, "127.0.0.1", alice.port, key=alice.key, source="manual", now_ms=clock())
        async with PeerScheduler(bob.node.db, bob.sync, clock, random=fixed(NO_JITTER)) as scheduler:
            await until(lambda: texts(bob.node), lambda got: got == ["before the scheduler"])
            await alice.node.post("while connected")
            await until(lambda: texts(bob.node), lambda got: got == ["while connected", "before the scheduler"])
            assert [peer.key for peer in scheduler.sessions.values()] == [alice.key]
            # Alice shuts down: her side of the connection goes. What moved before counts, and
            # the backoff starts from its first step.
            for session in list(alice.sync.sessions):
                await session.stream.connection.close()
            [peer] = await until(lambda: peers_of(bob.node), lambda got: got[0].last_attempt is not None)
        assert (peer.last_success, peer.failures) == (clock(), 1)
        assert peer.entries_received >= 2      # her two posts, and what her identity holds
        assert peer.next_attempt == clock() + 5_000 and peer.last_error


async def test_a_closed_port_is_backed_off_longer_after_each_failure(make_config, clock) -> None:
    closed_port = _free_port()
    async with gossip_node(make_config("b"), "Bob", clock) as bob:
        async with bob.node.db.write() as conn:
            await add_peer(conn, "127.0.0.1", closed_port, key=SigningKey(bytes(32)).did, source="manual",
                           now_ms=clock())
        async with PeerScheduler(bob.node.db, bob.sync, clock, random=fixed(NO_JITTER)) as scheduler:
            [peer] = await until(lambda: peers_of(bob.node), lambda got: got[0].failures == 1)
            assert peer.next_attempt == clock() + 5_000
            assert "Connect call failed" in (peer.last_error or "") or "refused" in (peer.last_error or "")
            scheduler.wake()                  # woken before the backoff is over: nothing is dialled
            await asyncio.sleep(0.1)
            assert [p.failures for p in await peers_of(bob.node)] == [1]
            clock.advance(5_000)
            scheduler.wake()
            [peer] = await until(lambda: peers_of(bob.node), lambda got: got[0].failures == 2)
            assert peer.next_attempt == clock() + 10_000


async def test_a_peer_that_proves_another_key_is_refused_and_backed_off(make_config, clock) -> None:
    async with gossip_node(make_config("a"), "Alice", clock) as alice, \
            gossip_node(make_config("b"), "Bob", clock) as bob:
        impostor_key = SigningKey(bytes([9]) * 32).did     # not the key Alice's node proves
        async with bob.node.db.write() as conn:
            await add_peer(conn, "127.0.0.1", alice.port, key=impostor_key, source="manual", now_ms=clock())
        async with PeerScheduler(bob.node.db, bob.sync, clock, random=fixed(0.5)):
            [peer] = await until(lambda: peers_of(bob.node), lambda got: got[0].failures == 1)
        assert "HandshakeFailed" in (peer.last_error or "")
        assert peer.next_attempt == clock() + 4_500 and peer.last_success is None


async def test_a_peer_that_hangs_up_cleanly_counts_as_a_success_and_is_called_back_later(make_config, clock) -> None:
    polite = SigningKey(bytes([7]) * 32)

    async def hang_up(stream: RpcStream, request: Request) -> None:
        await stream.end()

    async def on_connection(stream: SecureStream) -> None:
        async with RpcConnection(stream, hang_up) as connection:
            await connection.closed.wait()

    server = await serve(on_connection, "127.0.0.1", 0, signing_key=polite)
    try:
        async with gossip_node(make_config("b"), "Bob", clock) as bob:
            async with bob.node.db.write() as conn:
                await add_peer(conn, "127.0.0.1", server.sockets[0].getsockname()[1], key=polite.did,
                               source="manual", now_ms=clock())
            async with PeerScheduler(bob.node.db, bob.sync, clock, random=fixed(NO_JITTER)):
                [peer] = await until(lambda: peers_of(bob.node), lambda got: got[0].last_success is not None)
        assert (peer.failures, peer.last_error, peer.next_attempt) == (0, None, clock() + 10_000)
    finally:
        server.close()
        await server.wait_closed()


async def test_no_more_than_max_connections_are_open_at_once(make_config, clock) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)        # a node that accepts and never answers the handshake
        await reader.read()

    async with _servers(5, say_nothing, accepted) as ports, gossip_node(make_config("b"), "Bob", clock) as bob:
        async with bob.node.db.write() as conn:
            for number, port in enumerate(ports):
                await add_peer(conn, "127.0.0.1", port, key=SigningKey(bytes([number + 10]) * 32).did,
                               source="manual", now_ms=clock())
        async with PeerScheduler(bob.node.db, bob.sync, clock, max_connections=2,
                                 random=fixed(NO_JITTER)) as scheduler:
            await until(lambda: _count(accepted), lambda count: count == 2)
            scheduler.wake()
            await asyncio.sleep(0.2)
            assert len(accepted) == 2 and len(scheduler.sessions) == 2
            # One of them hangs up: its slot goes to the next peer in line.
            accepted[0].close()
            await until(lambda: _count(accepted), lambda count: count == 3)
            await asyncio.sleep(0.1)
            assert len(accepted) == 3 and len(scheduler.sessions) == 2
        assert sorted(p.failures for p in await peers_of(bob.node)) == [0, 0, 0, 0, 1]


async def _count(items: list[asyncio.StreamWriter]) -> int:
    return len(items)


@contextlib.asynccontextmanager
async def _servers(count: int, handler, accepted: list[asyncio.StreamWriter]) -> AsyncIterator[list[int]]:
    servers = [await asyncio.start_server(handler, "127.0.0.1", 0) for _ in range(count)]
    try:
        yield [server.sockets[0].getsockname()[1] for server in servers]
    finally:
        for writer in accepted:
            writer.close()
        for server in servers:
            server.close()
            await server.wait_closed()


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
