"""Who sees what, page by page: a followers-only or direct post never appears on any page for
someone who may not see it (timelines, tags, profiles, threads, search, notifications), and its own
page answers as if it did not exist. Each post is also checked to show where it may, so the
pages cannot pass by showing nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from weft.config import NodeConfig

from .site_server import serving
from .social_people import ENV, Member, people

# marker -> (visibility, mentions carol, who may see it)
POSTS = {
    "PUBLIC-MARK": ("public", False, {"alice", "bob", "carol", "dave", None}),
    "UNLISTED-MARK": ("unlisted", False, {"alice", "bob", "carol", "dave", None}),
    "FOLLOWERS-MARK": ("followers", False, {"alice", "bob"}),
    "FOLLOWERS-MENTION-MARK": ("followers", True, {"alice", "bob", "carol"}),
    "DIRECT-MARK": ("direct", True, {"alice", "carol"}),
}


async def test_posts_appear_only_on_the_pages_of_those_who_may_see_them(
        any_config: Callable[[str], NodeConfig]) -> None:
    async with serving(any_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")                 # the author
        bob = await folks.join("bob")                     # her follower
        carol = await folks.join("carol")                 # mentioned in some posts
        dave = await folks.join("dave")                   # a stranger with an account
        anonymous = await folks.stranger()                # a stranger without one
        social = running.site.social
        await social.following.relate(bob.account, alice.account.identity, "follow")

        ids: dict[str, int] = {}
        for marker, (visibility, mention, _) in POSTS.items():
            text = f"{'@carol ' if mention else ''}{marker} #matrix"
            ids[marker] = (await alice.compose(text, visibility=visibility)).id
        # A public reply under a followers-only post: its thread must not show the parent.
        reply = await bob.compose("REPLY-MARK in public", reply_to=ids["FOLLOWERS-MARK"], visibility="public")
        # Likes of the hidden posts notify alice, and mentions notify carol.
        await social.posting.react(bob.account, ids["FOLLOWERS-MARK"], "favourite", on=True)
        await social.posting.react(carol.account, ids["DIRECT-MARK"], "favourite", on=True)

        viewers: dict[str | None, Member | httpx.AsyncClient] = {
            "alice": alice, "bob": bob, "carol": carol, "dave": dave, None: anonymous}
        for name, viewer in viewers.items():
            client = viewer.client if isinstance(viewer, Member) else viewer
            paths = ["/", "/local", "/public", "/tags/matrix", "/@alice", "/@alice?max_id=999999999999999999",
                     "/@bob", f"/@bob/{reply.id}", *(f"/@alice/{sid}" for sid in ids.values()),
                     "/search?q=matrix", "/search?q=mark", "/search?q=alice"]
            if name is not None:
                paths += ["/notifications", "/follow_requests"]
            pages = {}
            for path in paths:
                response = await client.get(path)
                assert response.status_code in (200, 404), (name, path, response.status_code)
                pages[path] = response
            for marker, (_, _, allowed) in POSTS.items():
                own_page = pages[f"/@alice/{ids[marker]}"]
                if name in allowed:
                    assert own_page.status_code == 200 and marker in own_page.text, (name, marker)
                    assert marker in pages["/@alice"].text, (name, marker)
                    if name is not None:  # posts are searched for signed-in people
                        assert marker in pages["/search?q=matrix"].text, (name, marker)
                else:
                    assert own_page.status_code == 404, (name, marker)
                    leaks = [path for path, response in pages.items() if marker in response.text]
                    assert leaks == [], (name, marker, leaks)
            thread = pages[f"/@bob/{reply.id}"]
            assert thread.status_code == 200 and "REPLY-MARK" in thread.text
            assert ("FOLLOWERS-MARK" in thread.text) is (name in POSTS["FOLLOWERS-MARK"][2]), name

        # The timelines that should hold them do: home of the follower, public for the public one.
        bob_home = (await bob.get("/")).text
        assert all(marker in bob_home for marker in ("PUBLIC-MARK", "UNLISTED-MARK", "FOLLOWERS-MARK"))
        public = (await anonymous.get("/public")).text
        assert "PUBLIC-MARK" in public and "UNLISTED-MARK" not in public  # unlisted stays off timelines
        carol_notices = (await carol.get("/notifications")).text
        assert "DIRECT-MARK" in carol_notices and "FOLLOWERS-MENTION-MARK" in carol_notices
