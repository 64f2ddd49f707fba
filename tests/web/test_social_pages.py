"""The social pages over HTTP: timelines, the compose form, threads, profiles, notifications;
what each action does and where it goes back to; CSRF; and the headers pages are sent with."""

from __future__ import annotations

import re
from collections.abc import Callable

from weft.config import NodeConfig
from weft.social import Draft
from weft.store.statuses import Page

from .site_server import serving
from .social_people import ENV, jpeg, people

STATUS_ID = re.compile(r'id="s-(\d+)"')


async def test_every_page_renders_for_members_and_strangers(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice", display_name="Alice Liddell")
        bob = await folks.join("bob")
        first = await alice.compose("Hello @bob, see #Weaving", visibility="public")
        reply = await bob.compose("Hi Alice!", reply_to=first.id)
        await bob.running.site.social.following.relate(bob.account, alice.account.identity, "follow")
        stranger = await folks.stranger()

        member_pages = {
            "/": ("Home", ["Hello", "Hi Alice!", 'id="compose-text"']),
            "/local": ("Local timeline", ["Hello", "Hi Alice!"]),
            "/public": ("Public timeline", ["Hello"]),
            "/tags/weaving": ("#weaving", ["Hello"]),
            "/tags/Weaving": ("#weaving", ["Hello"]),
            "/@alice": ("Alice Liddell", ["Hello", 'href="/@alice.rss"', 'href="/@alice.atom"']),
            "/@alice/followers": ("Followers of Alice Liddell", ['href="/@bob"']),
            "/@bob/following": ("Followed by bob", ['href="/@alice"']),
            f"/@alice/{first.id}": ("Post by Alice Liddell", ["Hello", "Hi Alice!", "Your reply"]),
            "/notifications": ("Notifications", ["followed you", "replied to your post", "Hi Alice!"]),
            "/follow_requests": ("Follow requests", ["Nobody is waiting"]),
            "/compose": ("New post", ["Your post"]),
            f"/compose?reply_to={first.id}": ("Reply", ["@alice "]),
            f"/statuses/{first.id}/edit": ("Edit the post", ["Hello @bob, see #Weaving</textarea>"]),
            f"/statuses/{first.id}/delete": ("Delete the post?", ["Delete the post</button>"]),
        }
        for path, (heading, texts) in member_pages.items():
            who = bob if path in ("/", "/compose", f"/compose?reply_to={first.id}") else alice
            page = await who.get(path)
            assert page.status_code == 200, (path, page.text)
            assert f"<h1>{heading}</h1>" in page.text, (path, page.text)
            for text in texts:
                assert text in page.text, (path, text)
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["cache-control"] == "no-store"
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp

        strangers_pages = {
            "/": ("weft", ["Hello", 'href="/auth/sign_up"', "What this is"]),
            "/local": ("Local timeline", ["Hello"]),
            "/public": ("Public timeline", ["Hello"]),
            "/tags/weaving": ("#weaving", ["Hello"]),
            "/@alice": ("Alice Liddell", ["Hello", "to follow Alice Liddell"]),
            "/@bob/following": ("Followed by bob", ['href="/@alice"']),
            f"/@alice/{first.id}": ("Post by Alice Liddell", ["Hello", "Hi Alice!", "to reply"]),
            f"/@bob/{reply.id}": ("Post by bob", ["Hello", "Hi Alice!"]),
        }
        for path, (heading, texts) in strangers_pages.items():
            page = await stranger.get(path)
            assert page.status_code == 200, (path, page.text)
            assert f"<h1>{heading}</h1>" in page.text, (path, page.text)
            for text in texts:
                assert text in page.text, (path, text)
            assert 'name="csrf"' not in page.text  # no forms of a session for strangers
        for path in ("/notifications", "/follow_requests", "/compose", f"/statuses/{first.id}/edit"):
            page = await stranger.get(path)
            assert page.status_code == 303 and page.headers["location"].startswith("/auth/sign_in?next=/"), path


async def test_a_mention_links_to_the_person_and_a_hashtag_to_its_page(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        await folks.join("bob")
        await alice.compose("Hi @bob and @nobody and @bob@elsewhere.example, #Tapestry http://example.org/a")
        page = (await alice.get("/local")).text
        assert 'href="/@bob" class="u-url mention">@<span>bob</span></a>' in page
        assert "@nobody" in page and 'href="/@nobody"' not in page
        assert "@bob@elsewhere.example" in page
        assert 'href="/tags/tapestry" class="mention hashtag" rel="tag">#<span>Tapestry</span>' in page
        assert 'href="http://example.org/a" rel="nofollow noopener noreferrer"' in page


async def test_posting_from_the_home_page_with_an_image_and_alt_text(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        posted = await alice.publish("A red square", images=((jpeg(), "A red square on white"),),
                                     summary="colour", visibility="unlisted", expires_in="86400")
        assert posted.status_code == 303 and posted.headers["location"] == "/?notice=posted"

        home = await alice.get(posted.headers["location"])
        assert "Your post is published." in home.text
        (status,) = await running.site.social.statuses.timeline(alice.account, "home", Page())
        assert status.row.text == "A red square" and status.row.visibility == "unlisted"
        assert status.row.summary == "colour" and status.row.expires is not None
        (image,) = status.attachments
        assert image.alt == "A red square on white"
        assert f'<img src="/media/{image.thumb}" alt="A red square on white"' in home.text
        assert f'href="/media/{image.blob}"' in home.text
        assert "<summary><span class=\"cw-label\">Content warning:</span> colour</summary>" in home.text
        thumb = await alice.get(f"/media/{image.thumb}")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


async def test_a_post_that_fails_comes_back_with_the_text_and_the_images_kept(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        too_long = "x" * 5001
        failed = await alice.publish(too_long, images=((jpeg(), "kept alt"),), summary="a warning")
        assert failed.status_code == 422
        assert "A post has at most 5000 characters." in failed.text
        assert f">{too_long}</textarea>" in failed.text and 'value="a warning"' in failed.text
        assert await running.site.social.statuses.timeline(alice.account, "home", Page()) == []
        # The image was uploaded before the text was checked: it waits in the form.
        kept = re.search(r'name="kept" value="(\d+)"', failed.text)
        assert kept is not None and 'value="kept alt"' in failed.text

        again = await alice.client.post("/statuses", data={
            "csrf": await alice.csrf(), "text": "shorter", "next": "/", "kept": kept.group(1),
            f"kept_alt_{kept.group(1)}": "a better alt"}, files=[("image_1", ("", b"", "application/octet-stream"))])
        assert again.status_code == 303
        (status,) = await running.site.social.statuses.timeline(alice.account, "home", Page())
        assert status.row.text == "shorter" and [a.alt for a in status.attachments] == ["a better alt"]

        not_an_image = await alice.publish("look", images=((b"<html>not an image</html>", "alt"),))
        assert not_an_image.status_code == 422 and "image 1" in not_an_image.text
        assert ">look</textarea>" in not_an_image.text
        empty = await alice.publish("   ")
        assert empty.status_code == 422 and "A post needs text or an image." in empty.text


async def test_liking_boosting_and_bookmarking_go_back_to_the_page(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        bob = await folks.join("bob")
        post = await alice.compose("Like me")
        page = (await bob.get("/local")).text
        assert f'action="/statuses/{post.id}/like"' in page and 'aria-pressed="false">Like</button>' in page

        for action, field, value in (("like", "favourited", True), ("boost", "reblogged", True),
                                     ("bookmark", "bookmarked", True), ("unlike", "favourited", False),
                                     ("unboost", "reblogged", False), ("unbookmark", "bookmarked", False)):
            done = await bob.post_form(f"/statuses/{post.id}/{action}", {"next": "/local?max_id=99999999999999999"})
            assert done.status_code == 303, (action, done.text)
            assert done.headers["location"] == f"/local?max_id=99999999999999999#s-{post.id}"
            status = await running.site.social.statuses.status(bob.account, post.id)
            assert getattr(status, field) is value, action
        liked = await bob.post_form(f"/statuses/{post.id}/like", {"next": "/local"})
        assert liked.status_code == 303
        page = (await bob.get("/local")).text
        assert f'action="/statuses/{post.id}/unlike"' in page and 'aria-pressed="true">Like</button>' in page
        assert "1 like" in page

        # A next that leaves the site, or none, goes to the front page.
        for next_path in ("//evil.example/", "https://evil.example/", ""):
            done = await bob.post_form(f"/statuses/{post.id}/bookmark", {"next": next_path})
            assert done.headers["location"] == f"/#s-{post.id}", next_path
        unknown = await bob.post_form(f"/statuses/{post.id}/explode", {"next": "/"})
        assert unknown.status_code == 404


async def test_editing_shows_the_history_and_deleting_asks_first(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        bob = await folks.join("bob")
        post = await alice.compose("First words")
        form = await alice.get(f"/statuses/{post.id}/edit?next=/local")
        assert ">First words</textarea>" in form.text and 'name="next" value="/local"' in form.text

        edited = await alice.post_form(f"/statuses/{post.id}/edit",
                                       {"text": "Second words", "summary": "", "next": "/local"})
        assert edited.status_code == 303 and edited.headers["location"] == f"/local?notice=edited#s-{post.id}"
        thread = await bob.get(f"/@alice/{post.id}")
        assert "Second words" in thread.text and "Edit history (2 versions)" in thread.text
        assert "First words" in thread.text  # in the history

        too_long = await alice.post_form(f"/statuses/{post.id}/edit", {"text": "y" * 5001, "next": "/"})
        assert too_long.status_code == 422 and f">{'y' * 5001}</textarea>" in too_long.text
        assert (await bob.get(f"/statuses/{post.id}/edit")).status_code == 403
        assert (await bob.post_form(f"/statuses/{post.id}/edit", {"text": "mine now"})).status_code == 403
        assert (await bob.post_form(f"/statuses/{post.id}/delete")).status_code == 403

        confirm = await alice.get(f"/statuses/{post.id}/delete?next=/@alice/{post.id}")
        assert confirm.status_code == 200 and "Second words" in confirm.text
        assert (await running.site.social.statuses.status(None, post.id)).row.text == "Second words"
        deleted = await alice.post_form(f"/statuses/{post.id}/delete", {"next": f"/@alice/{post.id}"})
        # Its own page is gone with it: back to the author's profile.
        assert deleted.status_code == 303 and deleted.headers["location"] == "/@alice?notice=deleted"
        assert "The post is deleted." in (await alice.get("/@alice?notice=deleted")).text
        assert (await bob.get(f"/@alice/{post.id}")).status_code == 404


async def test_forms_without_the_session_s_csrf_token_are_refused(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        bob = await folks.join("bob")
        post = await alice.compose("Leave me be")
        for token in ("", "forged", await alice.csrf()):  # alice's token is not bob's
            for path in (f"/statuses/{post.id}/like", f"/statuses/{post.id}/boost", "/@alice/follow"):
                refused = await bob.post_form(path, {"next": "/"}, csrf=token)
                assert refused.status_code == 403 and "not sent from this site" in refused.text, path
            refused = await bob.client.post("/statuses", data={"csrf": token, "text": "sneaky"},
                                            files=[("image_1", ("", b"", "application/octet-stream"))])
            assert refused.status_code == 403
            refused = await alice.post_form(f"/statuses/{post.id}/delete", csrf=token + "x")
            assert refused.status_code == 403
        status = await running.site.social.statuses.status(bob.account, post.id)
        assert not status.favourited and not status.reblogged and status.row.likes == 0
        relation = (await running.site.social.following.relationships(bob.account, [alice.account.identity]))[0]
        assert not relation.following
        assert await running.site.social.statuses.timeline(bob.account, "home", Page()) == []


async def test_a_stranger_s_action_leads_to_signing_in_and_back(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        post = await alice.compose("Hello")
        stranger = await folks.stranger()
        sent = await stranger.post(f"/statuses/{post.id}/like", data={"csrf": "x", "next": f"/@alice/{post.id}"})
        assert sent.status_code == 303 and sent.headers["location"] == f"/auth/sign_in?next=/%40alice/{post.id}"
        assert (await running.site.social.statuses.status(None, post.id)).row.likes == 0


async def test_unknown_people_and_posts_are_not_found(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        await folks.join("bob")
        post = await alice.compose("Mine")
        for path in ("/@nobody", "/@nobody/followers", f"/@bob/{post.id}", "/@alice/12345",
                     "/@alice/99999999999999999999999", "/tags/123", f"/statuses/{post.id + 1}/edit"):
            page = await alice.get(path)
            assert page.status_code == 404, path
            assert page.headers["content-type"].startswith("text/html"), path
        assert (await alice.get("/local?max_id=soon")).status_code == 422


async def test_search_finds_people_hashtags_and_posts(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice", display_name="Alice Weaver")
        bob = await folks.join("bob")
        await alice.compose("Warp and weft on the #loom today")
        await alice.compose("Nothing to see")
        stranger = await folks.stranger()

        empty = await bob.get("/search")
        assert empty.status_code == 200 and 'role="search"' in empty.text and "<h1>Search</h1>" in empty.text
        assert 'href="/tags/loom"' in empty.text  # in use today
        found = await bob.get("/search", params={"q": "loom"})
        assert found.status_code == 200
        assert "Warp and weft" in found.text and "Nothing to see" not in found.text
        assert 'href="/tags/loom">#loom</a>' in found.text
        people_found = await bob.get("/search", params={"q": "alice"})
        assert 'href="/@alice"><strong>Alice Weaver</strong>' in people_found.text

        # Strangers find people and hashtags; posts are for signed-in people.
        theirs = await stranger.get("/search", params={"q": "loom"})
        assert theirs.status_code == 200 and "Warp and weft" not in theirs.text and "to search posts" in theirs.text
        assert 'href="/tags/loom">#loom</a>' in theirs.text
        hostile = await stranger.get("/search", params={"q": '"><script>alert(1)</script>'})
        assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text
        assert (await bob.get("/search", params={"q": "loom", "offset": "many"})).status_code == 422


async def test_older_posts_are_a_link_away(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        for number in range(23):
            await running.site.social.posting.compose(alice.account, Draft(f"post number {number:02d}"))
        first = (await alice.get("/@alice")).text
        assert len(STATUS_ID.findall(first)) == 20 and "post number 22" in first and "post number 02" not in first
        older = re.search(r'href="(/@alice\?max_id=\d+)" rel="next">Older posts', first)
        assert older is not None
        second = (await alice.get(older.group(1))).text
        assert len(STATUS_ID.findall(second)) == 3 and "post number 00" in second and "post number 03" not in second
        assert "Older posts" not in second


async def test_odd_values_in_addresses_and_forms_get_clear_answers(any_config: Callable[[str], NodeConfig]) -> None:
    async with serving(any_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        post = await alice.compose("hello")
        huge = str(2**64)
        for path, status in (("/tags/a%00b", 404), ("/tags/" + "x" * 300, 404), (f"/compose?reply_to={huge}", 404),
                             (f"/@alice/followers?max_id={huge}", 422), ("/search?q=a%00b", 200),
                             (f"/statuses/{huge}/edit", 404)):
            response = await alice.get(path)
            assert response.status_code == status, (path, response.text)
        for fields, message in (({"visibility": "everyone"}, "Choose who can see the post"),
                                ({"expires_in": "5"}, "Choose when the post disappears"),
                                ({"reply_to": huge}, "Reply_to must be a status id"),
                                ({"kept": huge}, "Kept must be upload ids")):
            refused = await alice.publish("not like this", **fields)
            assert refused.status_code == 422 and message in refused.text, fields
            assert ">not like this</textarea>" in refused.text
            assert '<option value="public" selected>' in refused.text  # never shown as something else
        assert (await alice.post_form(f"/statuses/{huge}/like", {"next": "/"})).status_code == 404
        assert (await alice.post_form(f"/follow_requests/{huge}/accept", {"next": "/"})).status_code == 404
        assert [s.id for s in await running.site.social.statuses.timeline(alice.account, "home", Page())] == [post.id]
