"""Nodes find each other on the LAN (mDNS/DNS-SD) and replicate without being told of each other.

Only loopback is used: every zeroconf instance here joins the mDNS group on 127.0.0.1 and
sends through it, and every gossip listener is on 127.0.0.1. Each test has a network key of
its own, so that nodes of other tests running at the same time on this host are "another
network" and ignored.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from zeroconf.asyncio import AsyncServiceInfo

from weft.core.keys import SigningKey
from weft.store.database import Database, sqlite_url
from weft.store.migrate import migrate
from weft.store.peers import Peer, list_peers
from weft.sync.backoff import BACKOFF_BASE_MS, BACKOFF_CAP_MS, JITTER, RECONNECT_MS
from weft.sync.discovery import (
    LAN_VERSION,
    SERVICE_TYPE,
    LanAdvert,
    LanDiscovery,
    advert_properties,
    network_fingerprint,
    read_advert,
)
from weft.sync.scheduler import DEFAULT_MAX_CONNECTIONS, PeerScheduler

from .gossip import gossip_node, texts, until

LOOPBACK = ["127.0.0.1"]
NETWORK = bytes(range(32))
ME = SigningKey(bytes([1]) * 32).did
THEM = SigningKey(bytes([2]) * 32).did
DOCS = Path(__file__).parents[2] / "docs" / "protocol" / "replication.md"


def service(properties: dict[str, str], *, port: int = 8008, addresses: list[str] | None = None) -> AsyncServiceInfo:
    return AsyncServiceInfo(SERVICE_TYPE, f"weft-test.{SERVICE_TYPE}", port=port, properties=properties,
                            server="weft-test.local.", parsed_addresses=addresses or ["192.168.1.20"])


# -- reading an advertisement -------------------------------------------------------------


def test_an_advertisement_of_the_same_network_is_read_as_where_to_dial_and_what_key_to_expect() -> None:
    info = service(advert_properties(THEM, NETWORK, http_port=8080), addresses=["192.168.1.20", "10.0.0.9"])
    assert read_advert(info, network_key=NETWORK, own_key=ME) == LanAdvert("192.168.1.20", 8008, THEM, 8080)
    assert advert_properties(THEM, NETWORK) == {"v": LAN_VERSION, "key": THEM, "net": network_fingerprint(NETWORK)}


@pytest.mark.parametrize(("change", "why"), [
    ({"net": network_fingerprint(bytes(32))}, "a node of another network"),
    ({"v": "2"}, "an advertisement version this node does not read"),
    ({"key": ME}, "this node itself"),
    ({"key": "did:key:z6Mknot-a-key"}, "a key that is not an Ed25519 did:key"),
    ({"key": ""}, "no key"),
])
def test_advertisements_this_node_should_not_dial_are_ignored(change: dict[str, str], why: str) -> None:
    info = service({**advert_properties(THEM, NETWORK), **change})
    assert read_advert(info, network_key=NETWORK, own_key=ME) is None, why


def test_an_advertisement_without_a_usable_address_or_port_is_ignored() -> None:
    properties = advert_properties(THEM, NETWORK)
    assert read_advert(service(properties, addresses=["0.0.0.0"]), network_key=NETWORK, own_key=ME) is None
    assert read_advert(service(properties, port=0), network_key=NETWORK, own_key=ME) is None


def test_the_network_key_is_never_advertised_only_a_fingerprint_of_it() -> None:
    fingerprint = network_fingerprint(NETWORK)
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint) and fingerprint not in NETWORK.hex()
    assert network_fingerprint(bytes(32)) != fingerprint


# -- on the (loopback) LAN ----------------------------------------------------------------


async def test_a_node_advertised_on_the_lan_is_recorded_and_the_scheduler_woken(tmp_path, clock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="weft.sync")
    network = os.urandom(32)
    stranger_network = os.urandom(32)
    me, them, stranger = (SigningKey(os.urandom(32)).did for _ in range(3))
    woken: list[Peer] = []
    db, their_db, stranger_db = [await _database(tmp_path / name) for name in ("me", "them", "stranger")]
    try:
        async with LanDiscovery(db, clock, key=me, gossip_port=9001, network_key=network,
                                interfaces=LOOPBACK, on_peer=woken.append), \
                LanDiscovery(stranger_db, clock, key=stranger, gossip_port=9003, network_key=stranger_network,
                             interfaces=LOOPBACK), \
                LanDiscovery(their_db, clock, key=them, gossip_port=9002, network_key=network,
                             interfaces=LOOPBACK, http_port=8081):
            [peer] = await until(lambda: _peers(db, source="lan", key=them), lambda got: len(got) == 1)
            assert (peer.host, peer.port) == ("127.0.0.1", 9002)
            await until(lambda: _said(caplog, stranger, "a node of another network"), bool)
            await until(lambda: _said(caplog, me, "this node itself"), bool)
            assert [p.key for p in woken] == [them]
            assert {p.key for p in await _peers(db)} == {them}   # neither the stranger nor itself
    finally:
        for each in (db, their_db, stranger_db):
            await each.close()


async def test_two_nodes_on_one_lan_find_each_other_and_replicate(make_config, clock) -> None:
    network = os.urandom(32)
    async with gossip_node(make_config("a"), "Alice", clock, network_key=network) as alice, \
            gossip_node(make_config("b"), "Bob", clock, network_key=network) as bob:
        await bob.node.relate("follow", alice.did)
        await alice.node.post("hello, whoever is on this LAN")
        async with PeerScheduler(alice.node.db, alice.sync, clock) as alice_scheduler, \
                PeerScheduler(bob.node.db, bob.sync, clock) as bob_scheduler, \
                LanDiscovery(alice.node.db, clock, key=alice.key, gossip_port=alice.port, network_key=network,
                             interfaces=LOOPBACK, on_peer=lambda _: alice_scheduler.wake()), \
                LanDiscovery(bob.node.db, clock, key=bob.key, gossip_port=bob.port, network_key=network,
                             interfaces=LOOPBACK, on_peer=lambda _: bob_scheduler.wake()):
            await until(lambda: texts(bob.node), lambda got: got == ["hello, whoever is on this LAN"], timeout=10)
            await alice.node.post("still here")
            await until(lambda: texts(bob.node), lambda got: got[0] == "still here")
        assert [p.key for p in await _peers(bob.node.db)] == [alice.key]


# -- the protocol doc ---------------------------------------------------------------------


def test_the_discovery_section_of_the_replication_doc_says_what_the_code_does() -> None:
    text = DOCS.read_text()
    section = text[text.index("## 6. Discovery"):]
    for needle in [SERVICE_TYPE, f"`v={LAN_VERSION}`", "`key=", "`net=", "`http=",
                   f"{BACKOFF_BASE_MS // 1000} s", f"{BACKOFF_CAP_MS // 3_600_000} h",
                   f"{int(JITTER * 100)} %", f"{RECONNECT_MS // 1000} s",
                   f"{DEFAULT_MAX_CONNECTIONS} live sessions"]:
        assert needle in section, needle


# -- helpers ------------------------------------------------------------------------------


async def _database(path: Path) -> Database:
    path.mkdir(parents=True, exist_ok=True)
    db = await Database.open(sqlite_url(path / "weft.db"))
    await migrate(db)
    return db


async def _peers(db: Database, **match: str) -> list[Peer]:
    async with db.read() as conn:
        return [p for p in await list_peers(conn) if all(getattr(p, k) == v for k, v in match.items())]


async def _said(caplog: pytest.LogCaptureFixture, key: str, reason: str) -> bool:
    return any(key[:60] in record.getMessage() and reason in record.getMessage() for record in caplog.records)
