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


async def test_a_feed_page_is_full_whether_posts_are_minutes_or_years_apart(database, clock) -> None:
    # The feed searches a window of time before the newest post and widens it: dense and
    # sparse histories, ties in ts, and direct posts that must be skipped all end the same.
    viewer, bob, carol = Author(clock), Author(clock), Author(clock)
    year = 365 * 24 * 3600 * 1000
    start = clock() - 30 * year
    bobs = [bob.phone.post(f"bob {n}", ts=start + n * year) for n in range(30)]            # one a year
    carols = [carol.phone.post(f"carol {n}", ts=clock() - 1000 + n // 3) for n in range(30)]  # same ms, thrice
    hidden = [carol.phone.post("a direct post to someone else", ts=clock(), visibility="direct")
              for _ in range(5)]
    follows = [viewer.phone.relate("follow", bob), viewer.phone.relate("follow", carol)]
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, viewer, bob, carol)
        await admit(ingest, *bobs, *carols, *hidden, *follows)
    me = await make_local(database, viewer)
    every = [p.entry for p in sorted([*bobs, *carols], key=lambda p: (p.entry.ts, p.id), reverse=True)]
    async with database.read() as conn:
        first = await queries.feed(conn, me, limit=40, now_ms=clock())
        rest = await queries.feed(conn, me, limit=40, before_ts=first[-1].ts, now_ms=clock())
    assert len(first) == 40 and not any(p.visibility == "direct" for p in first)
    assert [p.ts for p in first] == [e.ts for e in every[:40]]
    # Paging goes by ts, so posts sharing the last one's ts are not repeated; all the rest come.
    assert {p.text for p in first} | {p.text for p in rest} == {f"bob {n}" for n in range(30)} | {
        f"carol {n}" for n in range(30)}
