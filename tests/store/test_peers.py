"""The peer list: added once, keys pinned, outcomes remembered for the scheduler."""

from __future__ import annotations

from weft.store.peers import (
    add_peer,
    dialable_peers,
    due_peers,
    list_peers,
    next_dial_at,
    note_lan_peer,
    record_failure,
    record_success,
)

KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


async def test_a_peer_is_added_once_and_its_key_pinned_once(database, clock) -> None:
    async with database.write() as conn:
        first = await add_peer(conn, "127.0.0.1", 8008, key=None, source="manual", now_ms=clock())
        again = await add_peer(conn, "127.0.0.1", 8008, key=KEY, source="lan", now_ms=clock.advance(5))
        other = await add_peer(conn, "::1", 9000, key=None, source="lan", now_ms=clock())
        later = await add_peer(conn, "127.0.0.1", 8008, key="did:key:z6Mkother", source="lan", now_ms=clock())
    assert first.id == again.id == later.id != other.id
    assert (again.key, again.source, again.added_at) == (KEY, "manual", first.added_at)
    assert later.key == KEY  # a pinned key is not replaced by whoever claims the address next
    assert [p.address for p in [first, other]] == ["127.0.0.1:8008", "[::1]:9000"]


async def test_failures_back_a_peer_off_and_a_success_brings_it_back(database, clock) -> None:
    async with database.write() as conn:
        peer = await add_peer(conn, "127.0.0.1", 8008, key=None, source="manual", now_ms=clock())
        assert [p.id for p in await due_peers(conn, clock(), 10)] == [peer.id]
        await record_failure(conn, peer.id, now_ms=clock(), error="connection refused",
                             next_attempt=clock() + 60_000)
        assert await due_peers(conn, clock.advance(59_999), 10) == []
        assert [p.id for p in await due_peers(conn, clock.advance(1), 10)] == [peer.id]
        await record_success(conn, peer.id, now_ms=clock(), key=KEY, received=40, sent=2)
        await record_success(conn, peer.id, now_ms=clock(), key=KEY, received=1, sent=0)
        [stored] = await list_peers(conn)
    assert (stored.failures, stored.last_error, stored.key) == (0, None, KEY)
    assert (stored.entries_received, stored.entries_sent, stored.last_success) == (41, 2, clock())


OTHER = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"


async def test_the_scheduler_dials_due_peers_with_keys_not_connected_already(database, clock) -> None:
    async with database.write() as conn:
        keyless = await add_peer(conn, "10.0.0.1", 8008, key=None, source="manual", now_ms=clock())
        first = await add_peer(conn, "10.0.0.2", 8008, key=KEY, source="manual", now_ms=clock())
        same_node = await add_peer(conn, "10.0.0.3", 8008, key=KEY, source="lan", now_ms=clock())
        later = await add_peer(conn, "10.0.0.4", 8008, key=OTHER, source="lan", now_ms=clock())
        await record_failure(conn, later.id, now_ms=clock(), error="refused", next_attempt=clock() + 5_000)
        dialable = [p.id for p in await dialable_peers(conn, clock(), 10)]
        while_connected = await dialable_peers(conn, clock(), 10, connected={KEY})
        next_at = await next_dial_at(conn, connected={KEY})
        nothing = await next_dial_at(conn, connected={KEY, OTHER})
    assert keyless.id not in dialable and dialable == [first.id, same_node.id]
    assert while_connected == []   # the node is connected, whichever address it came from
    assert (next_at, nothing) == (clock() + 5_000, None)


async def test_a_node_announced_on_the_lan_is_due_now_and_a_lan_address_takes_the_new_key(database, clock) -> None:
    async with database.write() as conn:
        found = await note_lan_peer(conn, "10.0.0.5", 8008, key=KEY, now_ms=clock())
        await record_failure(conn, found.id, now_ms=clock(), error="refused", next_attempt=clock() + 60_000)
        back = await note_lan_peer(conn, "10.0.0.5", 8008, key=KEY, now_ms=clock.advance(10))
        await record_failure(conn, found.id, now_ms=clock(), error="refused", next_attempt=clock() + 60_000)
        # The address went to another machine (DHCP): its new key replaces the one LAN discovery pinned.
        moved = await note_lan_peer(conn, "10.0.0.5", 8008, key=OTHER, now_ms=clock.advance(10))
        manual = await add_peer(conn, "10.0.0.6", 8008, key=KEY, source="manual", now_ms=clock())
        claimed = await note_lan_peer(conn, "10.0.0.6", 8008, key=OTHER, now_ms=clock())
        stored = {p.id: p for p in await list_peers(conn)}
    assert (found.source, found.key, found.next_attempt) == ("lan", KEY, 0)
    assert back.next_attempt == clock() - 10 and back.failures == 1   # due now; the count stays
    assert (moved.key, moved.failures, moved.last_error, moved.next_attempt) == (OTHER, 0, None, clock())
    assert stored[found.id] == moved
    assert claimed.key == stored[manual.id].key == KEY   # a key pinned by hand is not given away


async def test_a_success_may_set_when_to_call_back(database, clock) -> None:
    async with database.write() as conn:
        peer = await add_peer(conn, "127.0.0.1", 8008, key=KEY, source="manual", now_ms=clock())
        await record_success(conn, peer.id, now_ms=clock(), key=KEY, received=3, sent=1,
                             next_attempt=clock() + 10_000)
        assert await dialable_peers(conn, clock.advance(9_999), 10) == []
        assert [p.id for p in await dialable_peers(conn, clock.advance(1), 10)] == [peer.id]
