"""Fediverse people on the web pages: /@user@host shows who they are and their posts held
here, with their HTML sanitized at render and their images never loaded from their server
(this site keeps no remote media: links to the originals, and the default avatar); a follow
from their page waits for their Accept before their posts reach the home page."""

from __future__ import annotations

import time
from collections.abc import Callable

from weft.config import NodeConfig
from weft.store.statuses import Page

from ..social.remote_people_world import HOST, Actor, answer_follow, hold_actor, remote_post
from .site_server import serving
from .social_people import ENV, people

IMAGE = {"url": f"https://files.{HOST}/media/2.png", "mime": "image/png", "alt": "a dog"}


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_a_remote_persons_page_their_post_and_a_follow_that_waits(
        make_config: Callable[[str], NodeConfig]) -> None:
    environ = {**ENV, "WEFT_MEDIA_CACHE_MB": "0"}   # nothing fetched (the cache's own tests do)
    async with serving(make_config("n"), environ=environ) as running, people(running) as folks:
        node, actor = running.node, Actor()
        bob = await hold_actor(node.db, node.ingest, actor, ts=now_ms() - 5000)
        await remote_post(node.ingest, actor, 1, ts=now_ms() - 4000, attachments=[IMAGE])
        [status] = await running.site.social.statuses.of_account(None, bob, Page())
        alice = await folks.join("alice")
        stranger = await folks.stranger()

        page = await stranger.get(f"/@bob@{HOST}")
        assert page.status_code == 200, page.text
        html = page.text
        assert "<h1>Bob Remote</h1>" in html and f"@bob@{HOST}" in html
        assert "<p>Hi, I am <strong>bob</strong></p>" in html and "steal()" not in html
        assert actor.avatar not in html
        assert 'src="/avatars/original/missing.png" alt="" width="96" height="96"' in html
        assert f'href="{actor.url}"' in html                     # their profile on their server
        assert '<a href="https://x.example/" rel="nofollow noopener noreferrer">there</a>' in html
        assert "<script>" not in html and "alert(1)" not in html
        assert f'src="{IMAGE["url"]}"' not in html
        assert (f'Media on its own server: a dog · <a href="{IMAGE["url"]}" rel="nofollow noopener noreferrer">'
                "open original</a>") in html
        assert f'href="/@bob@{HOST}/{status.id}"' in html

        post = await stranger.get(f"/@bob@{HOST}/{status.id}")
        assert post.status_code == 200 and "alert(1)" not in post.text and ">there</a>" in post.text
        assert f'href="https://{HOST}/@bob/1"' in post.text       # the original, on its server
        assert (await stranger.get(f"/@bob@{HOST.upper()}/{status.id}")).status_code == 200
        assert (await stranger.get(f"/@alice/{status.id}")).status_code == 404
        assert (await stranger.get(f"/@nobody@{HOST}")).status_code == 404
        assert (await stranger.get("/@bob@not a host")).status_code == 404

        assert f'action="/@bob@{HOST}/follow"' in (await alice.get(f"/@bob@{HOST}")).text
        followed = await alice.post_form(f"/@bob@{HOST}/follow", {"next": f"/@bob@{HOST}"})
        assert followed.status_code == 303 and followed.headers["location"] == f"/@bob@{HOST}"
        assert "Follow requested" in (await alice.get(f"/@bob@{HOST}")).text
        assert ">there</a>" not in (await alice.get("/")).text      # not before their Accept
        await answer_follow(node.ingest, actor, alice.account.did, accept=True, ts=now_ms())
        assert ">Unfollow</button>" in (await alice.get(f"/@bob@{HOST}")).text
        home = (await alice.get("/")).text
        assert ">there</a>" in home and "alert(1)" not in home

        mention = await alice.compose(f"hello @bob@{HOST}")
        shown = (await stranger.get(f"/@alice/{mention.id}")).text
        assert f'<a href="/@bob@{HOST}"' in shown


async def test_the_sites_directory_finds_nobody_where_no_server_answers(
        make_config: Callable[[str], NodeConfig]) -> None:
    environ = {**ENV, "WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1"}
    async with serving(make_config("n"), environ=environ) as running:
        directory = running.site.directory
        assert directory is not None          # the node assembly set it (site_routes)
        closed = "127.0.0.1:9"                 # the discard port: nothing listens on loopback
        for query in (f"nobody@{closed}", f"http://{closed}/users/nobody", f"http://{closed}/@nobody",
                      "not a handle", f"{running.url}/users/nobody"):
            assert await directory.resolve(query) is None, query
