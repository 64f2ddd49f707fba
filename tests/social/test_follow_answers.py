"""Answers to follows, on SQLite and PostgreSQL: a "no" (``follow_reject``) ends a follow
whether or not the account is locked, a turned-away follower may ask again, and each side
sees who asked whom."""

from __future__ import annotations

from weft.errors import NotFound
from weft.node import Node
from weft.site import Site
from weft.social import Draft

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


async def test_removing_a_follower_of_an_open_account_ends_the_follow(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        secret = await social.posting.compose(bob, Draft("for my followers", visibility="followers"))

        assert (await social.following.relate(alice, bob.identity, "follow")).following
        assert (await social.statuses.status(alice, secret.id)).row.text == "for my followers"

        seen_by_bob = await social.following.answer(bob, alice.identity, accept=False)
        assert not seen_by_bob.followed_by and not seen_by_bob.requested_by
        mine = (await social.following.relationships(alice, [bob.identity]))[0]
        assert not mine.following and not mine.requested
        assert await social.following.followers(bob.identity, limit=10) == []
        try:
            await social.statuses.status(alice, secret.id)
            raise AssertionError("a removed follower still sees followers-only posts")
        except NotFound:
            pass

        again = await social.following.relate(alice, bob.identity, "follow")
        assert again.following and not again.requested
        assert (await social.statuses.status(alice, secret.id)).id == secret.id
        await social.close()


async def test_a_turned_away_request_can_be_made_again_and_both_sides_see_it(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        carol = await site.accounts.sign_up("carol", "a long password", by_admin=True)
        author = site.accounts.author(carol)
        await node.publish({"type": "profile", "name": "Carol", "locked": True}, author=author)

        asked = await social.following.relate(alice, carol.identity, "follow")
        assert asked.requested and not asked.following
        carol_side = (await social.following.relationships(carol, [alice.identity]))[0]
        assert carol_side.requested_by and not carol_side.followed_by
        assert [p.identity for p in await social.following.follow_requests(carol, limit=10)] == [alice.identity]

        await social.following.answer(carol, alice.identity, accept=False)
        refused = (await social.following.relationships(alice, [carol.identity]))[0]
        assert not refused.requested and not refused.following
        assert not (await social.following.relationships(carol, [alice.identity]))[0].requested_by
        assert await social.following.follow_requests(carol, limit=10) == []

        asked_again = await social.following.relate(alice, carol.identity, "follow")
        assert asked_again.requested
        assert [p.identity for p in await social.following.follow_requests(carol, limit=10)] == [alice.identity]
        assert (await social.following.person(carol.identity)).follow_requests == 1

        let_in = await social.following.answer(carol, alice.identity, accept=True)
        assert let_in.followed_by and not let_in.requested_by
        assert (await social.following.relationships(alice, [carol.identity]))[0].following
        assert (await social.following.person(carol.identity)).follow_requests == 0
        await social.close()
