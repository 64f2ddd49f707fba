"""Uploads whose processing a crash cut off end as failed, and what clients see of removed media.

An upload is processed from bytes held in memory (never written as they came, since they
may carry a photo's GPS position), so a crash mid-way loses them: the upload cannot be taken
up again. Once it has been "processing" longer than any worker takes, the node's upkeep
marks it failed, and the client API answers it as Mastodon answers a failed upload (422).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from PIL import Image

from tests.conftest import FakeClock, SessionLoop
from tests.mastodon.conftest import PASSWORD
from tests.mastodon.served import serve
from tests.mastodon.test_accounts import bearer
from tests.web.site_server import serving
from tests.web.social_people import people
from weft.config import NodeConfig
from weft.media.upkeep import ABANDONED_AFTER_MS, ABANDONED_ERROR
from weft.node import Node
from weft.site import Site
from weft.store import uploads

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 20, 200)).save(out, "JPEG")
    return out.getvalue()


async def cut_off_upload(config: NodeConfig, clock: FakeClock, *, sign_up: bool = False) -> int:
    """An upload of alice's left "processing" with no worker on it, as a crash mid-processing leaves it."""
    async with Node.open(config, clock=clock) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        if sign_up:
            await site.accounts.sign_up("alice", PASSWORD, by_admin=True)
        alice = await site.accounts.by_username("alice")
        async with node.db.write() as conn:
            return await uploads.insert_upload(conn, alice.id, "a photo", clock())


async def test_an_upload_left_processing_is_failed_after_a_restart(any_config: Callable[[str], NodeConfig],
                                                                   clock: FakeClock) -> None:
    config = any_config("n")
    upload_id = await cut_off_upload(config, clock, sign_up=True)

    async with Node.open(config, clock=clock) as node:   # restarted at once: it may be another's work
        site = Site.for_node(node, "http://social.test", environ=ENV)
        alice = await site.accounts.by_username("alice")
        assert (await site.social.uploads.get(alice, upload_id)).state == "processing"

    clock.advance(ABANDONED_AFTER_MS + 1)
    async with Node.open(config, clock=clock) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        found = await site.social.uploads.get(alice, upload_id)
        assert (found.state, found.error) == ("failed", ABANDONED_ERROR)
        async with node.db.write() as conn:   # a worker that comes back late changes nothing
            assert not await uploads.finish_upload(conn, upload_id, blob="ab" * 32, thumb="cd" * 32, mime="image/jpeg")
        assert (await site.social.uploads.get(alice, upload_id)).state == "failed"
        await site.social.close()


def test_the_client_api_answers_a_cut_off_upload_as_failed(make_config: Callable[[str], NodeConfig],
                                                           clock: FakeClock, runner: SessionLoop) -> None:
    config = make_config("n")
    with serve(config, clock=clock) as served:
        served.run(served.site.accounts.sign_up("alice", PASSWORD, by_admin=True))
        with httpx.Client(base_url=served.url, timeout=30) as client:
            token = bearer(client, "alice")
    upload_id = runner.run(cut_off_upload(config, clock))   # the server stopped with it processing
    clock.advance(ABANDONED_AFTER_MS + 1)
    with serve(config, clock=clock) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        answer = client.get(f"/api/v1/media/{upload_id}", headers=token)
        assert answer.status_code == 422, answer.text
        assert ABANDONED_ERROR in answer.text


async def test_a_post_deleted_in_the_web_app_takes_its_image_off_the_web(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        alice = await folks.join("alice")
        uploads_ = running.site.social.uploads
        ready = await uploads_.wait(alice.account, (await uploads_.upload(alice.account, jpeg())).id, seconds=30)
        status = await alice.compose("", media_ids=(ready.id,))
        stranger = await folks.stranger()
        assert ready.blob and ready.thumb
        for digest in (ready.blob, ready.thumb):
            assert (await stranger.get(f"/media/{digest}")).status_code == 200

        deleted = await alice.post_form(f"/statuses/{status.id}/delete", {"next": "/"})

        assert deleted.status_code == 303
        for digest in (ready.blob, ready.thumb):   # the web app offers no redraft: nothing waits
            assert (await stranger.get(f"/media/{digest}")).status_code == 404
