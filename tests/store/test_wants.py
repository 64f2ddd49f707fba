"""What a node replicates: follows out to a number of hops, never what its users block."""

from __future__ import annotations

from weft.ingest import Ingest
from weft.store.wants import clock_of, wanted_identities

from .world import Author, admit, introduce, make_local


async def test_follows_are_wanted_out_to_the_hops_asked_and_blocks_at_none(database, clock) -> None:
    alice, bob, carol, dan, eve, stranger = (Author(clock) for _ in range(6))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol, dan, eve)
        await admit(ingest, alice.phone.relate("follow", bob), alice.phone.relate("block", eve),
                    bob.phone.relate("follow", carol), bob.phone.relate("follow", eve),
                    carol.phone.relate("follow", dan), carol.phone.relate("follow", alice))
        await make_local(database, alice)
        async with database.read() as conn:
            assert await wanted_identities(conn, 0) == {alice.did: 0}
            assert await wanted_identities(conn, 2) == {alice.did: 0, bob.did: 1, carol.did: 2}
            assert await wanted_identities(conn, 3) == {alice.did: 0, bob.did: 1, carol.did: 2, dan.did: 3}
            asked = await wanted_identities(conn, 1, also=[stranger.did, eve.did])
            assert asked == {alice.did: 0, bob.did: 1, stranger.did: 0}
        await admit(ingest, alice.phone.relate("unfollow", bob, ts=clock.advance(1)))
        async with database.read() as conn:
            assert await wanted_identities(conn, 2) == {alice.did: 0}


async def test_the_clock_holds_identity_heads_and_every_device_head(database, clock) -> None:
    alice, bob, nobody = Author(clock, "phone", "laptop"), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, alice.phone.post("one"), alice.phone.post("two"), bob.phone.post("hi"))
        revoked = alice.revoke("laptop", 0)
        assert all(r.ok for r in await ingest.identity_ops([revoked.raw]))
        async with database.read() as conn:
            clock_now = await clock_of(conn, [alice.did, bob.did, nobody.did])
    assert clock_now.identities == {alice.did: revoked.id, bob.did: bob.ops[-1].id, nobody.did: None}
    assert clock_now.devices == {alice.phone.did: 2, alice.laptop.did: 0, bob.phone.did: 1}
