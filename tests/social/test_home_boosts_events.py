"""Boosts on the live ``user`` stream (weft.social.events), on SQLite and PostgreSQL: a boost
by whom the listener follows, or by the listener, comes as an update whose status is the
boost; the rules of the home timeline hold; undoing it, or deleting its post, deletes it
from the streams it reached.

As in test_events, an event that must not come is shown absent by order: a later event
must come first.
"""

from __future__ import annotations

from weft.accounts import Account
from weft.social import Status

from .test_events import World, next_event, next_update, world


async def boost(w: World, who: Account, status: Status) -> Status:
    boosted = await w.site.social.posting.react(who, status.id, "reblog", on=True)
    assert boosted.boost is not None
    return boosted


async def test_a_boost_reaches_the_home_stream_of_the_boosters_followers_and_the_booster(any_config) -> None:
    async with world(any_config) as w:
        dave = await w.site.accounts.sign_up("dave", "a long password", by_admin=True)
        daves = await w.post(dave, "dave's words")
        follower = await w.listen(w.bob, "user")
        booster = await w.listen(w.alice, "user")
        stranger = await w.listen(w.carol, "user", "public")
        boosted = await boost(w, w.alice, daves)
        for subscription, mine in ((follower, False), (booster, True)):
            got = await next_update(subscription)
            assert got.id == boosted.id and got.row.id == daves.id and got.row.text == "dave's words"
            assert got.boost is not None and got.boost.by.username == "alice"
            assert got.reblogged is mine                                  # as each listener sees it
        barrier = await w.post(w.alice, "after the boost")
        assert (await next_update(stranger)).id == barrier.id           # not by carol's home, nor by public
        assert (await next_update(follower)).id == barrier.id


async def test_the_home_rules_hold_for_boosts_on_the_stream(any_config) -> None:
    async with world(any_config) as w:
        dave = await w.site.accounts.sign_up("dave", "a long password", by_admin=True)
        await w.site.social.following.relate(w.bob, w.carol.identity, "follow")
        home = await w.listen(w.bob, "user")
        seen = await w.post(w.alice, "alice's")
        assert (await next_update(home)).id == seen.id
        await boost(w, w.carol, seen)                                   # bob was sent the post itself
        bobs = await w.post(w.bob, "bob's own")
        assert (await next_update(home)).id == bobs.id
        await boost(w, w.carol, bobs)                                   # his own post: a notification instead
        told = await next_event(home)
        assert told.kind == "notification" and told.notification is not None
        assert told.notification.kind == "reblog"
        daves = await w.post(dave, "dave's")
        await w.site.social.following.relate(w.bob, dave.identity, "mute")
        await boost(w, w.carol, daves)                                  # the post's author is muted
        barrier = await w.post(w.alice, "after the boosts")
        assert (await next_update(home)).id == barrier.id
        await w.site.social.following.relate(w.bob, dave.identity, "unmute")
        again = await w.post(dave, "dave's again")
        boosted = await boost(w, w.carol, again)
        got = await next_update(home)
        assert got.id == boosted.id and got.boost is not None and got.reblogged is False


async def test_undoing_a_boost_or_deleting_its_post_deletes_it_where_it_went(any_config) -> None:
    async with world(any_config) as w:
        dave = await w.site.accounts.sign_up("dave", "a long password", by_admin=True)
        first, second = await w.post(dave, "first"), await w.post(dave, "second")
        home = await w.listen(w.bob, "user")
        elsewhere = await w.listen(w.carol, "user")
        boosted = await boost(w, w.alice, first)
        assert (await next_update(home)).id == boosted.id
        await w.site.social.posting.react(w.alice, first.id, "reblog", on=False)
        gone = await next_event(home)
        assert gone.kind == "delete" and gone.status_id == boosted.id
        later = await boost(w, w.alice, second)
        assert (await next_update(home)).id == later.id
        await w.site.social.posting.delete(dave, second.id)
        gone = await next_event(home)
        assert gone.kind == "delete" and gone.status_id == later.id
        barrier = await w.post(w.alice, "after")
        assert (await next_update(home)).id == barrier.id
        own = await w.post(w.carol, "carol's")
        assert (await next_update(elsewhere)).id == own.id                # carol was told of none of it
