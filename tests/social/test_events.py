"""Live events (weft.social.events) on SQLite and PostgreSQL: who is told of which post,
edit, delete and notification, as it is committed.

An event that must not come is shown absent by order: after the post that must not
arrive, a public post is written, and the listener's next event must be that one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from weft.accounts import Account
from weft.config import NodeConfig
from weft.errors import UsageError
from weft.node import Node
from weft.site import Site
from weft.social import Draft, Status
from weft.social.events import Events, Subscription
from weft.social.streams import Event, Stream

from ..store.world import Author, admit, introduce

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}
WAIT_S = 10.0   # an event comes within a second; this only bounds a failing test


@dataclass
class World:
    node: Node
    site: Site
    alice: Account
    bob: Account
    carol: Account

    @property
    def events(self) -> Events:
        return self.site.social.events

    async def post(self, who: Account, text: str, **draft: Any) -> Status:
        return await self.site.social.posting.compose(who, Draft(text, **draft))

    async def listen(self, who: Account, *names: str, tag: str | None = None) -> Subscription:
        return await self.events.subscribe(who, [Stream.named(name, tag) for name in names])


@asynccontextmanager
async def world(make: Callable[[str], NodeConfig]) -> AsyncIterator[World]:
    """alice posts; bob follows her; carol follows no one."""
    async with Node.open(make("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        accounts = [await site.accounts.sign_up(name, "a long password", by_admin=True)
                    for name in ("alice", "bob", "carol")]
        alice, bob, carol = accounts
        await site.social.following.relate(bob, alice.identity, "follow")
        try:
            yield World(node, site, alice, bob, carol)
        finally:
            await site.social.close()


async def next_event(subscription: Subscription) -> Event:
    found = await subscription.next(timeout=WAIT_S)
    assert found is not None, f"no event came (ended: {subscription.ended})"
    return found


async def next_update(subscription: Subscription) -> Status:
    found = await next_event(subscription)
    assert found.kind == "update" and found.status is not None, found
    return found.status


async def test_a_public_post_reaches_user_public_local_and_hashtag_streams(any_config) -> None:
    async with world(any_config) as w:
        home = await w.listen(w.bob, "user")
        own = await w.listen(w.alice, "user")
        public = await w.listen(w.carol, "public")
        local = await w.listen(w.carol, "public:local")
        tagged = await w.listen(w.carol, "hashtag", tag="#Weft")
        tagged_here = await w.listen(w.carol, "hashtag:local", tag="weft")
        untagged = await w.listen(w.carol, "hashtag", tag="other")
        posted = await w.post(w.alice, "hello #weft")
        for subscription in (home, own, public, local, tagged, tagged_here):
            got = await next_event(subscription)
            assert got.kind == "update" and got.status is not None and got.status.id == posted.id
            assert got.status.row.text == "hello #weft" and got.status.author.username == "alice"
        later = await w.post(w.alice, "#other things")
        assert (await next_update(untagged)).id == later.id     # not the #weft post before it
        assert (await next_update(home)).id == later.id


async def test_followers_only_posts_reach_followers_home_and_nowhere_public(any_config) -> None:
    async with world(any_config) as w:
        await w.site.social.following.relate(w.carol, w.bob.identity, "follow")   # carol's home: bob's posts
        follower_home = await w.listen(w.bob, "user")
        follower_public = await w.listen(w.bob, "public", "public:local")
        stranger_home = await w.listen(w.carol, "user")
        stranger_public = await w.listen(w.carol, "public")
        secret = await w.post(w.alice, "for followers", visibility="followers")
        got = await next_update(follower_home)
        assert got.id == secret.id and got.row.visibility == "followers"
        barrier = await w.post(w.bob, "public, after the secret")
        assert (await next_update(follower_public)).id == barrier.id
        assert (await next_update(stranger_home)).id == barrier.id
        assert (await next_update(stranger_public)).id == barrier.id


async def test_a_direct_post_reaches_only_whom_it_mentions(any_config) -> None:
    async with world(any_config) as w:
        dave = await w.site.accounts.sign_up("dave", "a long password", by_admin=True)
        await w.site.social.following.relate(dave, w.alice.identity, "follow")
        mentioned = await w.listen(w.bob, "user")
        not_mentioned = await w.listen(dave, "user")
        public = await w.listen(w.carol, "public")
        direct = await w.post(w.alice, "@bob just you", visibility="direct")
        got = await next_update(mentioned)
        assert got.id == direct.id and got.row.visibility == "direct"
        told = await next_event(mentioned)
        assert told.kind == "notification" and told.notification is not None
        assert told.notification.kind == "mention" and told.notification.status is not None
        assert told.notification.status.id == direct.id
        barrier = await w.post(w.alice, "for everyone")
        assert (await next_update(not_mentioned)).id == barrier.id
        assert (await next_update(public)).id == barrier.id


async def test_edits_and_deletes_reach_who_saw_the_post(any_config) -> None:
    async with world(any_config) as w:
        home = await w.listen(w.bob, "user")
        tagged = await w.listen(w.carol, "hashtag", tag="weft")
        posted = await w.post(w.alice, "first #weft")
        assert (await next_update(home)).id == posted.id
        assert (await next_update(tagged)).id == posted.id
        await w.site.social.posting.edit(w.alice, posted.id, text="second #weft")
        for subscription in (home, tagged):
            edited = await next_event(subscription)
            assert edited.kind == "status.update" and edited.status is not None
            assert edited.status.id == posted.id and edited.status.row.text == "second #weft"
            assert edited.status.row.edited_ts is not None
        await w.site.social.posting.delete(w.alice, posted.id)
        for subscription in (home, tagged):
            gone = await next_event(subscription)
            assert gone.kind == "delete" and gone.status_id == posted.id


async def test_the_delete_of_a_post_never_shown_reaches_no_one_who_could_not_see_it(any_config) -> None:
    async with world(any_config) as w:
        stranger = await w.listen(w.carol, "user", "public")
        secret = await w.post(w.alice, "for followers", visibility="followers")
        await w.site.social.posting.delete(w.alice, secret.id)
        barrier = await w.post(w.carol, "mine")
        first = await next_event(stranger)
        assert first.kind == "update" and first.status is not None and first.status.id == barrier.id


async def test_muted_authors_and_authors_who_block_reach_no_stream(any_config) -> None:
    async with world(any_config) as w:
        await w.site.social.following.relate(w.bob, w.carol.identity, "follow")
        await w.site.social.following.relate(w.bob, w.carol.identity, "mute")
        blocker = Author(w.node.clock, "phone")   # on another node, where bob's block of it cannot reach
        await introduce(w.node.ingest, blocker)
        await admit(w.node.ingest, blocker.phone.write({"type": "block", "target": w.bob.did}))
        home = await w.listen(w.bob, "user")
        public = await w.listen(w.bob, "public", "hashtag", tag="weft")
        witness = await w.listen(w.alice, "hashtag", tag="weft")
        await w.post(w.carol, "muted #weft")
        await admit(w.node.ingest, blocker.phone.post("blocking #weft", tags=["weft"]))
        assert [(await next_update(witness)).row.text for _ in range(2)] == ["muted #weft", "blocking #weft"]
        barrier = await w.post(w.alice, "followed #weft")
        assert (await next_update(home)).id == barrier.id
        seen = [await next_event(public), await next_event(public)]
        assert {e.stream.name for e in seen} == {"public", "hashtag"}
        assert all(e.status is not None and e.status.id == barrier.id for e in seen)


async def test_a_hosted_accounts_block_hides_the_blocked_from_its_streams_alone(any_config) -> None:
    """A hosted account's block hides the blocked from that account's streams; the blocked
    still posts and the others still hear it (the node refuses only whom its own people
    block: decision 0006)."""
    async with world(any_config) as w:
        dave = await w.site.accounts.sign_up("dave", "a long password", by_admin=True)
        await w.site.social.following.relate(w.bob, dave.identity, "block")
        bobs = await w.listen(w.bob, "public")
        carols = await w.listen(w.carol, "public")
        heard = await w.post(dave, "still heard")
        barrier = await w.post(w.alice, "after")
        assert (await next_update(carols)).id == heard.id
        assert (await next_update(bobs)).id == barrier.id


async def test_public_local_leaves_out_posts_from_other_nodes(any_config) -> None:
    async with world(any_config) as w:
        public = await w.listen(w.carol, "public")
        local = await w.listen(w.carol, "public:local")
        stranger = Author(w.node.clock, "phone")
        await introduce(w.node.ingest, stranger)
        await admit(w.node.ingest, stranger.phone.post("from afar"))
        far = await next_update(public)
        assert far.row.text == "from afar" and far.author.username is None
        here = await w.post(w.alice, "from here")
        assert (await next_update(local)).id == here.id
        assert (await next_update(public)).id == here.id


async def test_notifications_come_on_the_user_streams_with_their_status(any_config) -> None:
    async with world(any_config) as w:
        everything = await w.listen(w.alice, "user")
        only_notes = await w.listen(w.alice, "user:notification")
        posted = await w.post(w.alice, "like me")
        assert (await next_update(everything)).id == posted.id
        await w.site.social.posting.react(w.bob, posted.id, "favourite", on=True)
        await w.site.social.following.relate(w.carol, w.alice.identity, "follow")
        for subscription in (everything, only_notes):
            liked = await next_event(subscription)
            assert liked.kind == "notification" and liked.notification is not None
            assert liked.notification.kind == "favourite" and liked.notification.actor.username == "bob"
            assert liked.notification.status is not None and liked.notification.status.id == posted.id
            followed = await next_event(subscription)
            assert followed.notification is not None and followed.notification.kind == "follow"
            assert followed.notification.status is None


async def test_a_listener_starts_with_what_comes_after_it_subscribes(any_config) -> None:
    async with world(any_config) as w:
        early = await w.listen(w.carol, "public")
        before = await w.post(w.alice, "before")
        late = await w.listen(w.carol, "public")
        after = await w.post(w.alice, "after")
        assert (await next_update(early)).id == before.id
        assert (await next_update(late)).id == after.id


async def test_the_waiter_runs_only_while_someone_listens(any_config) -> None:
    async with world(any_config) as w:
        assert not w.events.running
        first = await w.listen(w.carol, "public")
        second = await w.listen(w.bob, "user")
        assert w.events.running
        first.close()
        assert w.events.running
        async with second:
            pass
        await wait_until(lambda: not w.events.running)
        again = await w.listen(w.carol, "public")   # and it starts again for the next one
        posted = await w.post(w.alice, "still live")
        assert (await next_update(again)).id == posted.id


async def test_a_listener_that_falls_behind_is_dropped(any_config) -> None:
    async with world(any_config) as w:
        hub = Events(w.node, w.site.social.statuses, capacity=2)
        slow = await hub.subscribe(w.carol, [Stream.named("public")])
        quick = await hub.subscribe(w.bob, [Stream.named("public")])
        for n in range(3):
            await w.post(w.alice, f"post {n}")
            assert (await next_update(quick)).row.text == f"post {n}"
        assert slow.ended is not None and "slow" in slow.ended
        assert await slow.next(timeout=0) is None   # what waited is dropped too
        await hub.close()


async def test_closing_the_hub_ends_every_stream_at_once(any_config) -> None:
    async with world(any_config) as w:
        listening = await w.listen(w.carol, "public")
        waiting = asyncio.ensure_future(listening.next(timeout=WAIT_S))
        await asyncio.sleep(0)
        await w.events.close()
        assert await asyncio.wait_for(waiting, WAIT_S) is None
        assert listening.ended is not None and not w.events.running
        refused = await w.listen(w.bob, "user")
        assert refused.ended is not None


async def test_the_statements_of_a_wake_do_not_grow_with_the_listeners(any_config) -> None:
    async with world(any_config) as w:
        counted: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            task = asyncio.current_task()
            if task is not None and task.get_name() == "weft-live-events":
                counted.append(statement)

        def largest_wake() -> int:
            """Statements of the largest wake (each begins by reading the new entries)."""
            sizes = [0]
            for statement in counted:
                if statement.startswith("SELECT entries.id, entries.content"):
                    sizes.append(0)
                sizes[-1] += 1
            return max(sizes)

        event.listen(w.node.db.reader.sync_engine, "before_cursor_execute", count)
        try:
            one = await w.listen(w.bob, "user", "public")
            await w.post(w.alice, "to one")
            assert [(await next_event(one)).stream.name for _ in range(2)] == ["public", "user"]
            alone = largest_wake()
            many = [await w.listen(await w.site.accounts.sign_up(f"u{n}", "a long password", by_admin=True),
                                   "user", "public") for n in range(12)]
            counted.clear()
            await w.post(w.alice, "to many")
            for listener in [one, one, *many]:   # bob's by both streams, theirs by public
                assert (await next_update(listener)).row.text == "to many"
            assert largest_wake() == alone, counted
        finally:
            event.remove(w.node.db.reader.sync_engine, "before_cursor_execute", count)


def test_streams_are_named_as_mastodon_names_them() -> None:
    assert Stream.named("hashtag:local", "#Weft").labels == ["hashtag:local", "weft"]
    assert Stream.named("user").labels == ["user"]
    with pytest.raises(UsageError, match="unknown stream"):
        Stream.named("list")
    with pytest.raises(UsageError, match="needs a tag"):
        Stream.named("hashtag")


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(int(WAIT_S / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")
