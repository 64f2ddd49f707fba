"""What a reader is shown: threads as trees, and the home feed."""

from __future__ import annotations

from weft.ingest import Ingest
from weft.store import queries
from weft.store.database import Database

from .world import Author, admit, introduce, make_local


async def feed_texts(db: Database, viewer: int, clock, **options) -> list[str | None]:
    async with db.read() as conn:
        return [p.text for p in await queries.feed(conn, viewer, now_ms=clock(), **options)]


async def test_a_thread_is_a_tree_in_reading_order_from_any_of_its_posts(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    root = alice.phone.post("root", ts=clock.advance(1))
    a = bob.phone.reply(root, "a: reply to root", ts=clock.advance(1))
    b = alice.phone.reply(a, "b: reply to a", root=root, ts=clock.advance(1))
    c = bob.phone.reply(root, "c: second reply to root", ts=clock.advance(1))
    d = bob.phone.reply(b, "d: reply to b", root=root, ts=clock.advance(1))
    elsewhere = alice.phone.post("another conversation", ts=clock.advance(1))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, a, c, d)           # bob's replies first
        await admit(ingest, root, b, elsewhere)
        expected = [(0, "root"), (1, "a: reply to root"), (2, "b: reply to a"), (3, "d: reply to b"),
                    (1, "c: second reply to root")]
        async with database.read() as conn:
            for start in (root, b, d):
                tree = await queries.thread(conn, start.id, now_ms=clock())
                assert [(depth, post.text) for depth, post in tree] == expected


async def test_a_deleted_post_keeps_its_place_in_a_thread_without_its_text(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    root = alice.phone.post("root", ts=clock.advance(1))
    middle = bob.phone.reply(root, "regretted", ts=clock.advance(1))
    leaf = alice.phone.reply(middle, "answer", root=root, ts=clock.advance(1))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, root, middle, leaf)
        await admit(ingest, bob.phone.delete(middle))
        async with database.read() as conn:
            tree = await queries.thread(conn, leaf.id, now_ms=clock())
    assert [(depth, post.text, post.deleted) for depth, post in tree] == [
        (0, "root", False), (1, None, True), (2, "answer", False)]


async def test_the_feed_is_mine_and_followed_newest_first_without_what_is_gone(database, clock) -> None:
    alice, bob, carol, dave = Author(clock), Author(clock), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol, dave)
        viewer = await make_local(database, alice)
        doomed = bob.phone.post("bob: deleted later", ts=clock.advance(1))
        await admit(ingest, alice.phone.relate("follow", bob), alice.phone.relate("follow", carol),
                    alice.phone.post("alice: 1", ts=clock.advance(1)),
                    bob.phone.post("bob: 2", ts=clock.advance(1)),
                    dave.phone.post("dave: not followed", ts=clock.advance(1)),
                    carol.phone.post("carol: 4", ts=clock.advance(1)),
                    bob.phone.post("bob: fleeting", ts=clock.advance(1), expires=clock() + 10_000),
                    doomed, alice.phone.post("alice: 5", ts=clock.advance(1)))
        await admit(ingest, bob.phone.delete(doomed))
        assert await feed_texts(database, viewer, clock) == [
            "alice: 5", "bob: fleeting", "carol: 4", "bob: 2", "alice: 1"]
        clock.advance(10_000)
        assert await feed_texts(database, viewer, clock) == ["alice: 5", "carol: 4", "bob: 2", "alice: 1"]
        assert await feed_texts(database, viewer, clock, limit=2) == ["alice: 5", "carol: 4"]
        await admit(ingest, alice.phone.relate("mute", carol, ts=clock.advance(1)),
                    alice.phone.relate("block", bob, ts=clock.advance(1)))
        assert await feed_texts(database, viewer, clock) == ["alice: 5", "alice: 1"]


async def test_pages_of_the_feed_follow_on_from_each_other(database, clock) -> None:
    alice = Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, *(alice.phone.post(f"post {n}", ts=clock.advance(1)) for n in range(1, 8)))
        async with database.read() as conn:
            first = await queries.feed(conn, viewer, now_ms=clock(), limit=3)
            second = await queries.feed(conn, viewer, now_ms=clock(), limit=3, before_ts=first[-1].ts)
    assert [p.text for p in first + second] == [f"post {n}" for n in range(7, 1, -1)]


async def test_a_direct_post_reaches_only_its_author_and_those_it_mentions(database, clock) -> None:
    alice, bob, carol = Author(clock), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol)
        viewers = {name: await make_local(database, who)
                   for name, who in (("alice", alice), ("bob", bob), ("carol", carol))}
        secret = bob.phone.post("for carol only", visibility="direct", mentions=[carol.did],
                                ts=clock.advance(1))
        await admit(ingest, alice.phone.relate("follow", bob), carol.phone.relate("follow", bob),
                    secret, bob.phone.post("for everyone", ts=clock.advance(1)))
        seen = {name: await feed_texts(database, viewer, clock) for name, viewer in viewers.items()}
        assert seen == {"alice": ["for everyone"], "bob": ["for everyone", "for carol only"],
                        "carol": ["for everyone", "for carol only"]}
        await admit(ingest, bob.phone.edit(secret, "for carol only (edited)", ts=clock.advance(1)))
        seen = {name: await feed_texts(database, viewer, clock) for name, viewer in viewers.items()}
    assert seen == {"alice": ["for everyone"],
                    "bob": ["for everyone", "for carol only (edited)"],
                    "carol": ["for everyone", "for carol only (edited)"]}
