"""Boosts in the home timeline (Reader.timeline "home"), on SQLite and PostgreSQL: merged by
time with the posts, deduplicated within a page as Mastodon does, paged through by status
ids of either kind, hidden with the post's author (mute, block) and with the post itself;
and a boost's own status id reads as the boost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from weft.accounts import Account
from weft.config import NodeConfig
from weft.errors import Forbidden, NotFound
from weft.node import Node
from weft.site import Site
from weft.social import Draft, Status
from weft.store.statuses import Page

from ..conftest import FakeClock
from ..store.world import Author, admit, introduce, row_of

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


@dataclass
class Home:
    site: Site
    clock: FakeClock
    alice: Account
    bob: Account
    carol: Account
    dave: Account

    async def post(self, who: Account, text: str, visibility: str | None = None) -> Status:
        self.clock.advance(1000)
        return await self.site.social.posting.compose(who, Draft(text, visibility=visibility))

    async def boost(self, who: Account, status: Status) -> Status:
        self.clock.advance(1000)
        boosted = await self.site.social.posting.react(who, status.id, "reblog", on=True)
        assert boosted.boost is not None
        return boosted

    async def relate(self, who: Account, whom: Account, action: str) -> None:
        await self.site.social.following.relate(who, whom.identity, action)

    async def home(self, page: Page = Page(), who: Account | None = None) -> list[Status]:
        return await self.site.social.statuses.timeline(who or self.alice, "home", page)

    async def ids(self, page: Page = Page(), who: Account | None = None) -> list[int]:
        return [status.id for status in await self.home(page, who)]


@asynccontextmanager
async def home(make: Callable[[str], NodeConfig], clock: FakeClock) -> AsyncIterator[Home]:
    """alice follows bob and carol; dave is a stranger to her."""
    async with Node.open(make("n"), clock=clock) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        people = [await site.accounts.sign_up(name, "a long password", by_admin=True)
                  for name in ("alice", "bob", "carol", "dave")]
        world = Home(site, clock, *people)
        await world.relate(world.alice, world.bob, "follow")
        await world.relate(world.alice, world.carol, "follow")
        try:
            yield world
        finally:
            await site.social.close()


async def test_boosts_are_merged_by_time_and_paged_through_like_posts(any_config, clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        d1, d2, d3 = [await w.post(w.dave, f"dave {n}") for n in (1, 2, 3)]
        b1 = await w.post(w.bob, "bob 1")
        carol_d1 = await w.boost(w.carol, d1)
        b2 = await w.post(w.bob, "bob 2")
        bob_d2 = await w.boost(w.bob, d2)
        a1 = await w.post(w.alice, "alice 1")
        own_d3 = await w.boost(w.alice, d3)          # the viewer's own boosts are at home too
        everything = [own_d3.id, a1.id, bob_d2.id, b2.id, carol_d1.id, b1.id]

        shown = await w.home()
        assert [s.id for s in shown] == everything
        assert [(s.boost.by.username if s.boost else None, s.row.text) for s in shown[:3]] == [
            ("alice", "dave 3"), (None, "alice 1"), ("bob", "dave 2")]
        assert shown[2].reblogged is False and shown[0].reblogged is True   # as alice sees them

        pages, cursor = [], None
        while page := await w.ids(Page(limit=2, max_id=cursor)):
            pages.append(page)
            cursor = page[-1]
        assert pages == [everything[0:2], everything[2:4], everything[4:6]]
        assert await w.ids(Page(limit=2, min_id=b1.id)) == [b2.id, carol_d1.id]
        assert await w.ids(Page(limit=2, min_id=carol_d1.id)) == [bob_d2.id, b2.id]    # a boost's id as cursor
        assert await w.ids(Page(limit=2, since_id=carol_d1.id)) == [own_d3.id, a1.id]
        assert await w.ids(Page(limit=9, since_id=bob_d2.id)) == [own_d3.id, a1.id]
        assert await w.ids(Page(limit=9, max_id=bob_d2.id, min_id=b1.id)) == [b2.id, carol_d1.id]
        assert await w.ids(Page(limit=9, max_id=own_d3.id, since_id=bob_d2.id)) == [a1.id]


async def test_a_page_leaves_out_a_boost_of_a_post_on_it_and_older_boosts_of_one_post(any_config,
                                                                                     clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        d1 = await w.post(w.dave, "dave's")
        c1 = await w.post(w.carol, "carol's")
        a1 = await w.post(w.alice, "alice's")
        bob_d1 = await w.boost(w.bob, d1)
        carol_d1 = await w.boost(w.carol, d1)          # a newer boost of the same post: this one stays
        bob_c1 = await w.boost(w.bob, c1)              # its post is on the page
        await w.boost(w.bob, a1)                       # the viewer's own post: a notification, not at home
        assert await w.ids() == [carol_d1.id, a1.id, c1.id]
        # Within one page only: where the post is not on it, the boost is.
        assert await w.ids(Page(limit=3)) == [bob_c1.id, carol_d1.id, a1.id]
        assert await w.ids(Page(limit=2, max_id=carol_d1.id)) == [bob_d1.id, a1.id]


async def test_a_page_left_short_by_the_dedupe_reads_on_for_more_boosts(any_config, clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        a0 = await w.post(w.alice, "before them all")
        d1, d2 = await w.post(w.dave, "dave 1"), await w.post(w.dave, "dave 2")
        bob_d2 = await w.boost(w.bob, d2)
        bob_d1 = await w.boost(w.bob, d1)
        carol_d1 = await w.boost(w.carol, d1)
        # The two newest boosts are of one post: the page reads the next boosts to fill up.
        assert await w.ids(Page(limit=2)) == [carol_d1.id, bob_d2.id]
        assert await w.ids(Page(limit=2, min_id=a0.id)) == [bob_d1.id, bob_d2.id]
        assert await w.ids(Page(limit=2, max_id=carol_d1.id)) == [bob_d1.id, bob_d2.id]


async def test_the_posts_authors_mute_or_block_hides_the_boost_and_so_does_the_boosters(any_config,
                                                                                       clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        d1 = await w.post(w.dave, "dave's")
        bob_d1 = await w.boost(w.bob, d1)
        c1 = await w.post(w.carol, "carol's")
        assert await w.ids() == [c1.id, bob_d1.id]
        for hide, show in (("mute", "unmute"), ("block", "unblock")):
            await w.relate(w.alice, w.dave, hide)
            assert await w.ids() == [c1.id]
            await w.relate(w.alice, w.dave, show)
            assert await w.ids() == [c1.id, bob_d1.id]
        await w.relate(w.alice, w.bob, "mute")            # a booster alice follows but mutes
        assert await w.ids() == [c1.id]
        await w.relate(w.alice, w.bob, "unmute")
        await w.relate(w.alice, w.bob, "unfollow")        # nor is it there once she unfollows him
        assert await w.ids() == [c1.id]


async def test_a_boost_goes_with_its_post_and_with_its_undoing(any_config, clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        d1, d2 = await w.post(w.dave, "first"), await w.post(w.dave, "second")
        bob_d1, bob_d2 = await w.boost(w.bob, d1), await w.boost(w.bob, d2)
        assert await w.ids() == [bob_d2.id, bob_d1.id]
        await w.site.social.posting.delete(w.dave, d1.id)
        assert await w.ids() == [bob_d2.id]
        await w.site.social.posting.react(w.bob, d2.id, "reblog", on=False)
        assert await w.ids() == []
        with pytest.raises(NotFound):
            await w.site.social.statuses.status(w.alice, bob_d2.id)


async def test_followers_only_posts_are_not_boosted_here_and_a_peers_boost_shows_to_who_may_see_it(
        any_config, clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        secret = await w.post(w.dave, "for my followers and @carol", visibility="followers")
        with pytest.raises(Forbidden):                 # weft refuses it, as Mastodon does
            await w.site.social.posting.react(w.dave, secret.id, "reblog", on=True)
        # A peer's log may still hold a boost of it: shown only to whom the post may be shown.
        eve = Author(clock, "phone")
        node = w.site.node
        await introduce(node.ingest, eve)
        await admit(node.ingest, eve.phone.write({"type": "boost", "target": secret.row.entry_id}))
        eve_row = await row_of(node.db, eve)
        for follower in (w.alice, w.carol):
            await w.site.social.following.relate(follower, eve_row, "follow")
        assert await w.ids() == []
        seen = await w.home(who=w.carol)               # mentioned, so she may see the post
        assert [(s.boost is not None, s.row.text) for s in seen] == [(True, "for my followers and @carol")]
        assert (await w.site.social.statuses.status(w.carol, seen[0].id)).boost is not None
        with pytest.raises(NotFound):
            await w.site.social.statuses.status(w.alice, seen[0].id)


async def test_a_boosts_status_id_reads_as_the_boost(any_config, clock: FakeClock) -> None:
    async with home(any_config, clock) as w:
        d1 = await w.post(w.dave, "dave's")
        bob_d1 = await w.boost(w.bob, d1)
        assert bob_d1.boost is not None
        for viewer in (None, w.alice, w.dave):
            read = await w.site.social.statuses.status(viewer, bob_d1.id)
            assert read.id == bob_d1.id and read.row.id == d1.id
            assert read.boost is not None and read.boost.by.username == "bob"
        many = await w.site.social.statuses.many(w.alice, [bob_d1.id, d1.id, bob_d1.id + 1])
        assert [(s.id, s.boost is not None) for s in many] == [(bob_d1.id, True), (d1.id, False)]
        await w.relate(w.bob, w.carol, "block")        # a booster who blocks the viewer: not found
        with pytest.raises(NotFound):
            await w.site.social.statuses.status(w.carol, bob_d1.id)
        # Undoing by the post's id, as apps do, still works; the boost's id is then gone.
        undone = await w.site.social.posting.react(w.bob, d1.id, "reblog", on=False)
        assert undone.boost is None and undone.reblogged is False
        with pytest.raises(NotFound):
            await w.site.social.statuses.status(w.alice, bob_d1.id)
