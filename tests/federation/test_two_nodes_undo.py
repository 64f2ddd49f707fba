"""Two weft nodes on loopback (``two_nodes``), on each backend: what is taken back reaches
whoever had it. Bob on b boosts and likes alice's post on a and takes both back; alice's
direct post reaches bob alone and her delete of it reaches him too; her report of bob,
forwarded, reaches b's moderators from a's server; her block of bob ends his follow on
both sides and keeps her new posts from him, and her unblock reaches b."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from weft.accounts import Account
from weft.social import Draft
from weft.store.statuses import Page

from ..web.site_server import RunningSite, sign_in
from .test_two_nodes import eventually, texts_at_home, two_nodes

PASSWORD = "a fine password"


async def _status_at(site: RunningSite, viewer: Account, text: str) -> int | None:
    """The status id ``viewer``'s home shows with ``text``, if any."""
    shown = await site.site.social.statuses.timeline(viewer, "home", Page(limit=40))
    return next((s.id for s in shown if s.boost is None and s.row.text == text), None)


async def _told(site: RunningSite, viewer: Account) -> list[str]:
    """The texts of the posts ``viewer``'s notifications show."""
    found = await site.site.social.notices.page(viewer, limit=40)
    return [n.status.row.text or "" for n in found if n.status is not None]


@pytest.mark.timeout(240)
async def test_boosts_likes_direct_posts_reports_and_blocks_are_taken_back_across_nodes(tmp_path, any_config) -> None:
    async with two_nodes(tmp_path, any_config) as (a, b):
        alice = await a.site.accounts.sign_up("alice", PASSWORD, by_admin=True, admin=True)
        bob = await b.site.accounts.sign_up("bob", PASSWORD, by_admin=True, admin=True)
        carol = await b.site.accounts.sign_up("carol", PASSWORD, by_admin=True)
        assert a.site.directory is not None and b.site.directory is not None
        alice_at_b = await b.site.directory.resolve(f"alice@{a.site.host}")
        assert alice_at_b is not None
        for follower in (bob, carol):
            await b.site.social.following.relate(follower, alice_at_b, "follow")

        async def both_follow() -> bool:
            return (await a.site.social.following.person(alice.identity)).followers == 2
        await eventually(both_follow, "alice's server to accept bob's and carol's follows")
        bob_at_a = await a.site.directory.resolve(f"bob@{b.site.host}")
        assert bob_at_a is not None

        # Boost and like, and taking them back: alice does not follow bob, so only the
        # audience each had (the post's author) carries the undo to a.
        post = await a.site.social.posting.compose(alice, Draft("boost me, bob"))

        async def bob_holds_it() -> bool:
            return await _status_at(b, bob, "boost me, bob") is not None
        await eventually(bob_holds_it, "alice's post at bob's home")
        held = await _status_at(b, bob, "boost me, bob")
        assert held is not None

        async def counts_at_a() -> tuple[int, int]:
            status = await a.site.social.statuses.status(alice, post.id)
            return status.row.boosts, status.row.likes

        async def counts_are(expected: tuple[int, int]) -> bool:
            return await counts_at_a() == expected

        await b.site.social.posting.react(bob, held, "reblog", on=True)
        await eventually(lambda: counts_are((1, 0)), "bob's boost at a")
        notices = await a.site.social.notices.page(alice, limit=10, types=["reblog"])
        assert [(n.actor.identity, n.status.id if n.status else None) for n in notices] == [(bob_at_a, post.id)]
        await b.site.social.posting.react(bob, held, "reblog", on=False)
        await eventually(lambda: counts_are((0, 0)), "bob's unboost at a")
        await b.site.social.posting.react(bob, held, "favourite", on=True)
        await eventually(lambda: counts_are((0, 1)), "bob's like at a")
        await b.site.social.posting.react(bob, held, "favourite", on=False)
        await eventually(lambda: counts_are((0, 0)), "bob's unlike at a")

        # Bob answers alice.
        reply = await b.site.social.posting.compose(bob, Draft("spam for alice", reply_to=held))

        async def alice_has_reply() -> bool:
            _, replies = await a.site.social.statuses.context(alice, post.id)
            return [r.row.text for r in replies] == ["spam for alice"]
        await eventually(alice_has_reply, "bob's reply at a")
        _, [reply_at_a] = await a.site.social.statuses.context(alice, post.id)

        # A direct answer to bob (it mentions him) reaches him and nobody else at b; its
        # delete reaches him as well, though the mentions it went by left with its content.
        secret = await a.site.social.posting.compose(alice, Draft("just for you", reply_to=reply_at_a.id,
                                                                  visibility="direct"))

        async def bob_was_told() -> bool:
            return "just for you" in await _told(b, bob)
        await eventually(bob_was_told, "the direct post at bob's")
        assert await _told(b, carol) == [] and "just for you" not in await texts_at_home(b, "carol")
        public = await b.site.social.statuses.timeline(None, "public", Page(limit=40))
        assert all("just for you" not in (s.row.text or "") for s in public)
        await a.site.social.posting.delete(alice, secret.id)

        async def bob_lost_it() -> bool:
            return "just for you" not in await _told(b, bob)
        await eventually(bob_lost_it, "the direct post's delete at bob's")

        # Alice reports bob's answer, forwarded to his server as a Flag from a's server (not from her).
        await a.site.social.moderation.report(alice, bob_at_a, entries=[reply_at_a.row.entry_id],
                                              comment="unwanted ads", category="spam", forward=True)
        [sent] = await a.site.social.moderation.reports()
        assert sent.forward

        async def b_has_report() -> bool:
            return bool(await b.site.social.moderation.reports())
        await eventually(b_has_report, "the forwarded report at b")
        [received] = await b.site.social.moderation.reports()
        assert (received.reporter, received.target, received.comment) == (None, bob.identity, "unwanted ads")
        assert received.origin_host is not None and received.origin_host.split(":")[0] == "a.test"
        assert received.entries == (reply.row.entry_id,)
        for site, expected in ((a, "forwarded to their server"), (b, f"the server {received.origin_host}")):
            async with site.client() as admin:
                name = "alice" if site is a else "bob"
                assert (await sign_in(admin, name, PASSWORD)).status_code == 303
                page = await admin.get("/admin/reports")
                assert page.status_code == 200 and expected in page.text and "unwanted ads" in page.text

        # A block ends bob's follow on both sides, and alice's new posts reach carol, not bob.
        await a.site.social.following.relate(alice, bob_at_a, "block")
        [at_a] = await a.site.social.following.relationships(alice, [bob_at_a])
        assert at_a.blocking and not at_a.followed_by

        async def b_knows_of_the_block() -> bool:
            [relation] = await b.site.social.following.relationships(bob, [alice_at_b])
            return relation.blocked_by and not relation.following
        await eventually(b_knows_of_the_block, "alice's block at b")
        assert (await a.site.social.following.person(alice.identity)).followers == 1
        await a.site.social.posting.compose(alice, Draft("after the block"))
        await eventually(lambda: _has(texts_at_home(b, "carol"), "after the block"), "the post at carol's home")
        assert "after the block" not in await texts_at_home(b, "bob")

        await a.site.social.following.relate(alice, bob_at_a, "unblock")

        async def b_knows_of_the_unblock() -> bool:
            [relation] = await b.site.social.following.relationships(bob, [alice_at_b])
            return not relation.blocked_by
        await eventually(b_knows_of_the_unblock, "alice's unblock at b")


async def _has(texts: Awaitable[list[str]], text: str) -> bool:
    return text in await texts
