"""The issue's whole migration, as a newcomer does it in a browser, between two weft nodes on
loopback: alice on a has posts (one with a picture) and a follower, bob on b. She downloads
her archive and recovery key from a's settings, arrives on b with them (same did:weft, her
posts and picture there), lists her old account as an alias, and moves from a's settings.
Bob, who followed her on a, now follows her on b and sees what she posts there; her profile
on b has her old posts; a says where she went."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from weft.config import NodeConfig
from weft.social import Draft
from weft.store.statuses import Page

from ..web.site_server import RunningSite, csrf_of, form_page, sign_in
from .test_two_nodes import eventually, texts_at_home, two_nodes

PASSWORD = "alice's long password"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 90)).save(buffer, "PNG")
    return buffer.getvalue()


async def _download(browser: httpx.AsyncClient, path: str) -> bytes:
    response = await browser.get(path)
    assert response.status_code == 200, response.text[:300]
    return response.content


async def _settings_form(browser: httpx.AsyncClient, action: str, **fields: str) -> httpx.Response:
    page = await browser.get("/settings")
    assert page.status_code == 200
    return await browser.post(action, data={"csrf": csrf_of(page.text), **fields})


async def _profile_text(site: RunningSite, path: str) -> str:
    async with site.client() as visitor:
        page = await visitor.get(path)
    assert page.status_code == 200
    return page.text


@pytest.mark.timeout(240)
async def test_alice_takes_her_posts_and_her_follower_from_a_to_b(
        tmp_path: Path, any_config: Callable[[str], NodeConfig]) -> None:
    async with two_nodes(tmp_path, any_config) as (a, b):
        alice = await a.site.accounts.sign_up("alice", PASSWORD, by_admin=True)
        bob = await b.site.accounts.sign_up("bob", "bob's long password", by_admin=True)
        assert a.site.directory is not None and b.site.directory is not None
        old_handle, new_handle = f"alice@{a.site.host}", f"alice@{b.site.host}"

        old_at_b = await b.site.directory.resolve(old_handle)                 # bob follows her on a
        assert old_at_b is not None
        await b.site.social.following.relate(bob, old_at_b, "follow")

        async def bob_follows(identity: int) -> bool:
            [relation] = await b.site.social.following.relationships(bob, [identity])
            return relation.following and not relation.requested
        await eventually(lambda: bob_follows(old_at_b), "a to accept bob's follow")

        upload = await a.site.social.uploads.upload(alice, _png(), description="a red square")
        await a.site.social.uploads.wait(alice, upload.id, seconds=30)
        await a.site.social.posting.compose(alice, Draft("a picture from a", media_ids=(upload.id,)))
        await a.site.social.posting.compose(alice, Draft("my first words on a"))
        await eventually(lambda: _has(texts_at_home(b, "bob"), "my first words on a"), "her post at bob's home")

        async with a.client() as at_a:                                      # she takes her things from a
            assert (await sign_in(at_a, "alice", PASSWORD)).status_code == 303
            recovery_key = await _download(at_a, "/settings/recovery-key")
            archive = await _download(at_a, "/settings/archive")

            async with b.client() as at_b:                                  # ... and arrives on b with them
                token = await form_page(at_b, "/auth/arrive")
                arrived = await at_b.post("/auth/arrive", data={
                    "csrf": token, "username": "alice", "password": PASSWORD, "password_again": PASSWORD},
                    files={"archive": ("alice.weft", archive, "application/octet-stream"),
                           "recovery_key": ("weft-recovery-alice.key", recovery_key, "text/plain")})
                assert arrived.status_code == 303, arrived.text[:500]
                added = await _settings_form(at_b, "/settings/aliases", alias=old_handle)
                assert added.status_code == 303, added.text[:500]

            moved = await _settings_form(at_a, "/settings/move", move_to=new_handle, password=PASSWORD)
            assert moved.status_code == 303, moved.text[:500]

        new_alice = await b.site.accounts.by_username("alice")
        assert new_alice.did == alice.did                                   # the same self-certifying identity
        profile = await _profile_text(b, "/@alice")                         # her history came with her
        assert "a picture from a" in profile and "my first words on a" in profile
        [picture] = [s for s in await b.site.social.statuses.of_account(None, new_alice.identity, Page(limit=40))
                     if s.row.text == "a picture from a"]
        blob = picture.row.attachments[0]["blob"]
        async with b.client() as visitor:
            image = await visitor.get(f"/media/{blob}")
        assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"

        async def bob_moved() -> bool:
            return await bob_follows(new_alice.identity) and not await bob_follows(old_at_b)
        await eventually(bob_moved, "bob to follow her on b, and not on a (the Move)")
        assert (await b.site.social.following.person(new_alice.identity)).followers == 1

        await b.site.social.posting.compose(new_alice, Draft("settled in on b"))
        assert "settled in on b" in await texts_at_home(b, "bob")
        assert "has moved to" in await _profile_text(a, "/@alice")


async def _has(texts: Awaitable[list[str]], text: str) -> bool:
    return text in await texts
