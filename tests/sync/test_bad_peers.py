"""A peer that breaks the rules is hung up on, with the reason logged; what it sent right is kept.

The victim is a real node with its gossip listener on loopback; its user follows Mallory.
The peer is built by hand (``raw_peer``): it hands over Mallory's identity log, waits for
the node to ask for her device log, sends a good batch, then something only a broken or
hostile peer sends. Each test asserts that the node hangs up, logs why, keeps the good
entries and stores nothing of the bad ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from weft import custody
from weft.config import NodeConfig
from weft.core.content import MAX_CONTENT_BYTES
from weft.core.ids import entry_id_bytes, entry_id_text
from weft.node import Node
from weft.store.entries import entries_by_ids
from weft.store.schema import forks
from weft.sync.batches import encode_batch
from weft.sync.muxrpc import DEFAULT_MAX_OPEN_INCOMING
from weft.sync.muxrpc_events import RequestType
from weft.sync.muxrpc_packets import DEFAULT_MAX_BODY_BYTES
from weft.sync.replication import SessionLimits
from weft.sync.service import SyncService

from ..conftest import FakeClock
from ..store.world import Author, Device, Signed, header_fields, new_key, signed_header
from .raw_peer import RawPeer


@dataclass
class Victim:
    node: Node
    sync: SyncService
    port: int
    key: bytes


@contextlib.asynccontextmanager
async def victim(config: NodeConfig, clock: FakeClock, *follows: Author,
                 limits: SessionLimits | None = None) -> AsyncIterator[Victim]:
    async with Node.open(config, clock=clock) as node:
        await custody.init_identity(node, "Victor")
        for author in follows:
            await node.relate("follow", author.did)
        sync = SyncService(node.db, node.ingest, clock, node.transport_key(), limits=limits)
        server = await sync.listen("127.0.0.1", 0)
        try:
            yield Victim(node, sync, server.sockets[0].getsockname()[1], node.transport_key().public_key)
        finally:
            server.close()
            await server.wait_closed()


async def introduce(peer: RawPeer, author: Author) -> None:
    """Answer the node's clock, hand over ``author``'s identity log, wait to be asked for its log."""
    await peer.expect_clock(lambda clock: author.did in clock["ids"])
    await peer.send_clock()
    await peer.send_ops(author.ops)
    await peer.expect_clock(lambda clock: author.phone.did in clock["devs"])


async def held(node: Node, *entries: Signed | bytes) -> list[bool]:
    ids = [item if isinstance(item, bytes) else item.id for item in entries]
    async with node.db.read() as conn:
        found = await entries_by_ids(conn, ids)
    return [entry_id in found for entry_id in ids]


async def settled(victim: Victim, good: list[Signed]) -> None:
    """The node's session with the peer is over, and ingest has had what it was given."""
    async with asyncio.timeout(5):
        while victim.sync.sessions or not all(await held(victim.node, *good)):
            await asyncio.sleep(0.02)


def logged(caplog: pytest.LogCaptureFixture, reason: str) -> bool:
    return any(reason in record.getMessage() for record in caplog.records if record.name.startswith("weft.sync"))


# -- the bad things, each after two good entries -----------------------------------------------


def forged(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    content = b'{"text":"i am mallory, honest","type":"post"}'
    header = signed_header(new_key(), header_fields(mallory, mallory.phone, content))
    return encode_batch([(header, content)]), [entry_id_bytes(header)]


def gap(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    skipped = mallory.phone.post("never sent")
    after = mallory.phone.post("sent past a hole")
    return encode_batch([(after.entry.raw, after.content)]), [skipped.id, after.id]


def reordered(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    third, fourth = mallory.phone.post("third"), mallory.phone.post("fourth")
    return encode_batch([(fourth.entry.raw, fourth.content), (third.entry.raw, third.content)]), [third.id, fourth.id]


def broken_chain(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    content = b'{"text":"after the wrong entry","type":"post"}'
    header = signed_header(mallory.phone.key, header_fields(mallory, mallory.phone, content,
                                                            prev=entry_id_text(bytes(32))))
    return encode_batch([(header, content)]), [entry_id_bytes(header)]


def forked(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    """A second entry at seq 2, signed by the device itself: the log forks."""
    twin = Device(mallory, "phone", key=mallory.phone.key)
    twin.seq, twin.head = 1, good[0].id
    other = twin.post("the other second entry")
    return encode_batch([(other.entry.raw, other.content)]), [other.id]


def oversize_entry(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    """A well-signed header that claims more content than an entry may carry."""
    header = signed_header(mallory.phone.key, header_fields(mallory, mallory.phone, b"x",
                                                            content_size=MAX_CONTENT_BYTES + 1))
    return encode_batch([(header, None)]), [entry_id_bytes(header)]


def oversize_content(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    content = b"x" * (MAX_CONTENT_BYTES + 1)
    header = signed_header(mallory.phone.key, header_fields(mallory, mallory.phone, content))
    return encode_batch([(header, content)]), [entry_id_bytes(header)]


def oversize_batch(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    """Three entries of 60 KB each: every one fits, the batch does not."""
    content = b"y" * 60_000
    headers = [signed_header(mallory.phone.key, header_fields(mallory, mallory.phone, content, seq=3 + n))
               for n in range(3)]
    return encode_batch([(header, content) for header in headers]), [entry_id_bytes(h) for h in headers]


def content_mismatch(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    real = mallory.phone.post("what was signed")
    return encode_batch([(real.entry.raw, b'{"text":"what was sent!!","type":"post"}')]), [real.id]


def malformed(mallory: Author, good: list[Signed]) -> tuple[bytes, list[bytes]]:
    post = mallory.phone.post("cut short")
    return encode_batch([(post.entry.raw, post.content)])[:-5], [post.id]


CASES: dict[str, tuple[Callable[[Author, list[Signed]], tuple[bytes, list[bytes]]], str]] = {
    "forged signature": (forged, "bad_signature"),
    "gap": (gap, "gap"),
    "reordered in a batch": (reordered, "reordered"),
    "broken chain": (broken_chain, "broken_chain"),
    "forked entry": (forked, "fork"),
    "oversize entry": (oversize_entry, "oversize"),
    "oversize content": (oversize_content, "content length"),
    "oversize batch": (oversize_batch, "the limit is"),
    "content not matching its hash": (content_mismatch, "content_mismatch"),
    "malformed batch": (malformed, "malformed batch"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_peer_that_sends_a_bad_entry_is_hung_up_on_and_its_good_entries_kept(
        case: str, any_config: Callable[[str], NodeConfig], clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory = Author(clock, "phone")
    good = [mallory.phone.post("first"), mallory.phone.post("second")]
    make_bad, reason = CASES[case]
    bad_batch, bad_entries = make_bad(mallory, good)
    async with victim(any_config("victim"), clock, mallory) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        await peer.send_batch(good)   # not waiting for it to be stored: the node must keep it anyway
        await peer.send_bytes(bad_batch)
        await peer.hung_up()
        await settled(node, good)
        assert logged(caplog, reason), caplog.text
        assert await held(node.node, *good) == [True, True]
        assert await held(node.node, *bad_entries) == [False] * len(bad_entries)
        assert peer.failure is not None and reason in peer.failure  # the peer is told why, too
        if case == "forked entry":  # the evidence is kept, the log closed
            async with node.node.db.read() as conn:
                assert len((await conn.execute(select(forks))).all()) == 1


async def test_a_log_nobody_asked_for_is_refused(make_config: Callable[[str], NodeConfig], clock: FakeClock,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory, stranger = Author(clock, "phone"), Author(clock, "phone")
    good = [mallory.phone.post("first")]
    async with victim(make_config("victim"), clock, mallory) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        await peer.send_batch(good)
        await peer.send_batch([stranger.phone.post("you never asked")])
        await peer.hung_up()
        await settled(node, good)
        assert logged(caplog, f"sent log {stranger.phone.did} that we did not ask for")


async def test_an_identity_nobody_asked_for_is_refused_before_it_is_stored(
        make_config: Callable[[str], NodeConfig], clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory, stranger = Author(clock, "phone"), Author(clock, "phone")
    async with victim(make_config("victim"), clock, mallory) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        await peer.send_ops(stranger.ops)
        await peer.hung_up()
        await settled(node, [])
        assert logged(caplog, f"sent the identity log of {stranger.did}, which we did not ask for")
        with pytest.raises(Exception, match="does not hold"):
            await node.node.state(stranger.did)
        assert (await node.node.state(mallory.did)).did == mallory.did


async def test_more_than_bytes_per_log_is_refused_and_what_came_before_kept(
        make_config: Callable[[str], NodeConfig], clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory = Author(clock, "phone")
    posts = [mallory.phone.post(f"post number {n}") for n in range(12)]
    limits = SessionLimits(bytes_per_log=sum(len(post.entry.raw) + len(post.content) for post in posts[:7]) + 10)
    async with victim(make_config("victim"), clock, mallory, limits=limits) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        for start in range(0, 12, 3):
            await peer.send_batch(posts[start:start + 3])
        await peer.hung_up()
        await settled(node, posts[:7])
        assert logged(caplog, f"sent more than {limits.bytes_per_log} bytes of log {mallory.phone.did}")
        assert await held(node.node, *posts) == [True] * 7 + [False] * 5


async def test_a_frame_over_the_limit_is_refused(make_config: Callable[[str], NodeConfig], clock: FakeClock,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory = Author(clock, "phone")
    good = [mallory.phone.post("first"), mallory.phone.post("second")]
    async with victim(make_config("victim"), clock, mallory) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        await peer.send_batch(good)
        await peer.send_bytes(bytes(DEFAULT_MAX_BODY_BYTES + 1))
        await peer.hung_up()
        await settled(node, good)
        assert logged(caplog, f"the limit is {DEFAULT_MAX_BODY_BYTES} bytes")


async def test_too_many_open_requests_are_refused(make_config: Callable[[str], NodeConfig], clock: FakeClock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    mallory = Author(clock, "phone")
    good = [mallory.phone.post("first")]
    async with victim(make_config("victim"), clock, mallory) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await introduce(peer, mallory)
        await peer.send_batch(good)
        for _ in range(DEFAULT_MAX_OPEN_INCOMING):  # the replicate stream is one open request already
            await peer.connection.open(("weft", "anything"), RequestType.DUPLEX)
        await peer.hung_up()
        await settled(node, good)
        assert logged(caplog, "too_many_requests")


async def test_a_clock_naming_too_many_logs_is_refused(make_config: Callable[[str], NodeConfig],
                                                       clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="weft.sync")
    async with victim(make_config("victim"), clock, limits=SessionLimits(max_logs=50)) as node, \
            RawPeer.connect(node.port, node.key) as peer:
        await peer.send_clock(devs={new_key().did: 0 for _ in range(51)})
        await peer.hung_up()
        await settled(node, [])
        assert logged(caplog, "more than 50 logs")


async def test_a_second_replicate_stream_on_one_connection_is_refused(
        make_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with victim(make_config("victim"), clock) as node, RawPeer.connect(node.port, node.key) as peer:
        await peer.expect_clock(lambda clock: True)
        second = await peer.connection.open(("weft", "replicate"), RequestType.DUPLEX)
        with pytest.raises(Exception, match="replicates already"):
            async with asyncio.timeout(5):
                async for _ in second:
                    pass
        assert len(node.sync.sessions) == 1
