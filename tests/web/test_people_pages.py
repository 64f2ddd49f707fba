"""Profiles and notifications over HTTP: following (and asking to, where the account is
locked), blocking and muting from a profile; follow requests answered from the page; and
notifications marked read once seen."""

from __future__ import annotations

from collections.abc import Callable

from weft import custody
from weft.config import NodeConfig
from weft.social.names import short_did

from .site_server import serving
from .social_people import ENV, jpeg, people


async def test_following_from_a_profile_fills_the_home_timeline(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        bob = await folks.join("bob")
        await alice.compose("From Alice, for followers", visibility="followers")
        profile = (await bob.get("/@alice")).text
        assert 'action="/@alice/follow"' in profile and ">Follow</button>" in profile
        assert "From Alice" not in (await bob.get("/")).text

        followed = await bob.post_form("/@alice/follow", {"next": "/@alice"})
        assert followed.status_code == 303 and followed.headers["location"] == "/@alice"
        profile = (await bob.get("/@alice")).text
        assert ">Unfollow</button>" in profile and "1 follower" in profile
        assert "From Alice, for followers" in (await bob.get("/")).text
        assert "Follows you" in (await alice.get("/@bob")).text

        assert (await bob.post_form("/@alice/unfollow", {"next": "/@alice"})).status_code == 303
        assert "From Alice" not in (await bob.get("/")).text
        assert (await bob.post_form("/@bob/follow", {"next": "/@bob"})).status_code == 422  # oneself


async def test_a_locked_account_answers_follow_requests_from_its_pages(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        carol = await folks.join("carol")
        dave = await folks.join("dave")
        erin = await folks.join("erin")
        saved = await carol.post_form("/settings/profile", {"name": "Carol", "locked": "on"})
        assert saved.status_code == 303
        await carol.compose("Carol secret words", visibility="followers")

        profile = (await dave.get("/@carol")).text
        assert ">Ask to follow</button>" in profile and "Locked" in profile
        await dave.post_form("/@carol/follow", {"next": "/@carol"})
        await erin.post_form("/@carol/follow", {"next": "/@carol"})
        profile = (await dave.get("/@carol")).text
        assert "Follow requested" in profile and "Withdraw the follow request" in profile
        assert "Carol secret words" not in profile

        notices = (await carol.get("/notifications")).text
        assert notices.count("asks to follow you") == 2 and "2 follow requests waiting" in notices
        dave_id = dave.account.identity
        assert f'action="/follow_requests/{dave_id}/accept"' in notices
        requests = (await carol.get("/follow_requests")).text
        assert 'href="/@dave"' in requests and 'href="/@erin"' in requests

        accepted = await carol.post_form(f"/follow_requests/{dave_id}/accept", {"next": "/follow_requests"})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/follow_requests"
        rejected = await carol.post_form(f"/follow_requests/{erin.account.identity}/reject", {"next": "/notifications"})
        assert rejected.status_code == 303 and rejected.headers["location"] == "/notifications"
        assert "Nobody is waiting" in (await carol.get("/follow_requests")).text
        assert "Carol secret words" in (await dave.get("/@carol")).text
        assert "Carol secret words" not in (await erin.get("/@carol")).text
        again = await carol.post_form(f"/follow_requests/{erin.account.identity}/accept", {"next": "/"})
        assert again.status_code == 404  # nobody is asking any more


async def test_blocking_and_muting_from_a_profile(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        bob = await folks.join("bob")
        await bob.post_form("/@alice/follow", {"next": "/@alice"})
        await alice.compose("Alice speaks")

        muted = await bob.post_form("/@alice/mute", {"next": "/@alice"})
        assert muted.status_code == 303
        assert "Alice speaks" not in (await bob.get("/")).text and "Alice speaks" not in (await bob.get("/local")).text
        assert ">Unmute</button>" in (await bob.get("/@alice")).text
        await bob.post_form("/@alice/unmute", {"next": "/@alice"})
        assert "Alice speaks" in (await bob.get("/")).text

        blocked = await alice.post_form("/@bob/block", {"next": "/@bob"})
        assert blocked.status_code == 303
        assert ">Unblock</button>" in (await alice.get("/@bob")).text
        assert "Alice speaks" not in (await bob.get("/@alice")).text  # her posts are hidden from him
        relation = (await running.site.social.following.relationships(bob.account, [alice.account.identity]))[0]
        assert relation.blocked_by and not relation.following
        assert (await bob.post_form("/@alice/befriend", {"next": "/"})).status_code == 404


async def test_notifications_group_likes_and_are_marked_read(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice", display_name="Alice")
        bob = await folks.join("bob", display_name="Bob")
        carol = await folks.join("carol", display_name="Carol")
        post = await alice.compose("Likeable")
        social = running.site.social
        await social.posting.react(bob.account, post.id, "favourite", on=True)
        await social.posting.react(carol.account, post.id, "favourite", on=True)
        await bob.compose("@alice hello there")

        first = (await alice.get("/notifications")).text
        assert first.count("liked your post") == 1  # both likes, shown once
        assert '<a href="/@carol">Carol</a> and <a href="/@bob">Bob</a>' in first
        assert "mentioned you" in first and first.count('<span class="badge">New</span>') == 2
        (marker,) = await social.notices.markers(alice.account, ["notifications"])
        newest = (await social.notices.page(alice.account, limit=1))[0]
        assert marker.last_read_id == str(newest.id)

        second = (await alice.get("/notifications")).text
        assert "liked your post" in second and '<span class="badge">New</span>' not in second


async def test_a_profile_shows_its_own_avatar_files_and_https_images_only(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        site = running.site
        blob = site.blobs.put(jpeg())
        for avatar, header, shown_avatar, shown_header in (
                (f"{site.base_url}/media/{blob}", "https://images.example/h.png", f"/media/{blob}",
                 "https://images.example/h.png"),
                ("http://images.example/a.png", f"{site.base_url}/media/../../etc/passwd",
                 "/avatars/original/missing.png", None),
                (f"{site.base_url}/settings", "data:image/png;base64,AAAA", "/avatars/original/missing.png", None)):
            await site.node.publish({"type": "profile", "name": "Alice", "avatar": avatar, "header": header},
                                    author=site.accounts.author(alice.account))
            page = (await folks.members["alice"].get("/@alice")).text
            assert f'<img class="avatar large" src="{shown_avatar}"' in page, avatar
            if shown_header:
                assert f'<img class="header-image" src="{shown_header}"' in page
            else:
                assert 'class="header-image"' not in page, header


async def test_an_identity_not_hosted_here_has_a_page_under_its_short_did(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        did = await custody.init_identity(running.node, "The Operator")
        await running.node.publish({"type": "post", "text": "Posted from the command line", "visibility": "public"})
        short = short_did(did)
        page = await alice.get(f"/@{short}")
        assert page.status_code == 200 and "<h1>The Operator</h1>" in page.text
        assert "Posted from the command line" in page.text and f"@{short}" in page.text
        assert ".rss" not in page.text  # feeds are for the accounts of this site
        local = (await alice.get("/local")).text
        assert f'href="/@{short}"' in local
        assert (await alice.get(f"/@{short[:-1]}")).status_code == 404
