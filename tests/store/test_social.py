"""Likes, boosts, follows, mutes, blocks and profiles: counted once, newest state wins."""

from __future__ import annotations

from weft.ingest import Ingest
from weft.store import queries
from weft.store.database import Database
from weft.store.schema import FOLLOW, MUTE

from .world import Author, admit, introduce, make_local, row_of


async def counts(db: Database, viewer: int, clock) -> dict[str | None, tuple[int, int]]:
    async with db.read() as conn:
        return {p.text: (p.likes, p.boosts) for p in await queries.feed(conn, viewer, now_ms=clock())}


async def test_likes_and_boosts_count_once_per_identity_however_many_devices(database, clock) -> None:
    alice, bob = Author(clock, "phone", "laptop"), Author(clock)
    post = alice.phone.post("count me")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        viewer = await make_local(database, alice)
        await admit(ingest, post, alice.phone.react("like", post), alice.laptop.react("like", post),
                    bob.phone.react("like", post))
        await admit(ingest, bob.phone.react("like", post), bob.phone.react("boost", post),
                    alice.laptop.react("boost", post))
        assert await counts(database, viewer, clock) == {"count me": (2, 2)}


async def test_deleting_a_like_takes_it_back(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    post = alice.phone.post("like and unlike")
    like = bob.phone.react("like", post)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        viewer = await make_local(database, alice)
        await admit(ingest, post, like, alice.phone.react("like", post))
        assert await counts(database, viewer, clock) == {"like and unlike": (2, 0)}
        await admit(ingest, alice.phone.delete(like))  # not alice's like to take back
        assert await counts(database, viewer, clock) == {"like and unlike": (2, 0)}
        await admit(ingest, bob.phone.delete(like))
        assert await counts(database, viewer, clock) == {"like and unlike": (1, 0)}


async def test_the_newest_follow_or_unfollow_by_timestamp_wins(database, clock) -> None:
    alice, bob, carol = Author(clock, "phone", "laptop"), Author(clock), Author(clock)
    t = clock()
    follow_bob = alice.phone.relate("follow", bob, ts=t)
    unfollow_bob = alice.laptop.relate("unfollow", bob, ts=t + 2000)
    refollow_bob_late = alice.phone.relate("follow", bob, ts=t + 1000)  # written before the unfollow
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol)
        await admit(ingest, follow_bob, unfollow_bob)
        await admit(ingest, refollow_bob_late, alice.phone.relate("follow", carol))
        me = await row_of(database, alice)
        async with database.read() as conn:
            following = await queries.relations_of(conn, me, FOLLOW)
            profile = await queries.profile_of(conn, carol.did)
    assert following == [carol.did]
    assert (profile["followers"], profile["following"]) == (1, 0)


async def test_an_undo_in_the_same_millisecond_as_what_it_undoes_still_wins(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    t = clock()  # a fast client: mute and unmute, follow and unfollow, all at one ms
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        me = await make_local(database, alice)
        await admit(ingest, alice.phone.relate("mute", bob, ts=t), alice.phone.relate("follow", bob, ts=t))
        await admit(ingest, alice.phone.relate("unmute", bob, ts=t), alice.phone.relate("unfollow", bob, ts=t))
        async with database.read() as conn:
            muted = await queries.relations_of(conn, me, MUTE)
            following = await queries.relations_of(conn, me, FOLLOW)
    assert (muted, following) == ([], [])


async def test_muting_hides_someone_from_the_feed_until_unmuted(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        viewer = await make_local(database, alice)
        await admit(ingest, alice.phone.relate("follow", bob), bob.phone.post("from bob"),
                    alice.phone.post("from alice"))
        assert set(await counts(database, viewer, clock)) == {"from bob", "from alice"}
        await admit(ingest, alice.phone.relate("mute", bob, ts=clock.advance(1)))
        assert set(await counts(database, viewer, clock)) == {"from alice"}
        await admit(ingest, alice.phone.relate("unmute", bob, ts=clock.advance(1)))
        assert set(await counts(database, viewer, clock)) == {"from bob", "from alice"}


async def test_the_newest_profile_by_timestamp_names_the_author(database, clock) -> None:
    alice = Author(clock, "phone", "laptop")
    t = clock()
    newer = alice.laptop.write({"type": "profile", "name": "Alice B.", "bio": "second"}, ts=t + 1000)
    older = alice.phone.write({"type": "profile", "name": "alice", "bio": "first"}, ts=t)
    post = alice.phone.post("hi", ts=t + 2000)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, newer)
        await admit(ingest, older, post)
        async with database.read() as conn:
            profile = await queries.profile_of(conn, alice.did)
            [shown] = await queries.feed(conn, viewer, now_ms=clock())
    assert profile["profile"] == {"type": "profile", "name": "Alice B.", "bio": "second"}
    assert (profile["posts"], shown.author_name) == (1, "Alice B.")
