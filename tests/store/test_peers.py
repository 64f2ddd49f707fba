"""The peer list: added once, keys pinned, outcomes remembered for the scheduler."""

from __future__ import annotations

from weft.store.peers import add_peer, due_peers, list_peers, record_failure, record_success

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
