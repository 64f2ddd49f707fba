"""Two weft nodes on loopback (``two_nodes``), on each backend: alice moves from a to b
through the settings page. Before b's alice lists a's alice as an alias, the move is refused
and says what to do; after, her followers on both servers follow her account on b, a's
actor document says movedTo, and her profile page there says where she went; the alias can be taken back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from weft.accounts import Account

from ..web.site_server import RunningSite, csrf_of, sign_in
from .test_two_nodes import eventually, two_nodes

PASSWORD = "a fine password"
AS2 = "application/activity+json"


async def _settings_form(browser: httpx.AsyncClient, action: str, **fields: str) -> httpx.Response:
    page = await browser.get("/settings")
    assert page.status_code == 200, page.text
    return await browser.post(action, data={"csrf": csrf_of(page.text), **fields})


async def _actor(site: RunningSite, username: str) -> dict[str, Any]:
    async with site.client() as client:
        response = await client.get(f"/users/{username}", headers={"accept": AS2})
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def _follows(site: RunningSite, who: Account, identity: int) -> tuple[bool, bool]:
    """(following, requested) of ``who`` towards ``identity``."""
    [relation] = await site.site.social.following.relationships(who, [identity])
    return relation.following, relation.requested


@pytest.mark.timeout(240)
async def test_alice_moves_from_a_to_b_and_her_followers_on_both_servers_follow_her_there(tmp_path, any_config) -> None:
    async with two_nodes(tmp_path, any_config) as (a, b):
        alice = await a.site.accounts.sign_up("alice", PASSWORD, by_admin=True)
        dan = await a.site.accounts.sign_up("dan", PASSWORD, by_admin=True)
        new_alice = await b.site.accounts.sign_up("alice", PASSWORD, by_admin=True)
        bob = await b.site.accounts.sign_up("bob", PASSWORD, by_admin=True)
        assert a.site.directory is not None and b.site.directory is not None
        old_handle, new_handle = f"alice@{a.site.host}", f"alice@{b.site.host}"

        old_at_b = await b.site.directory.resolve(old_handle)
        assert old_at_b is not None
        await b.site.social.following.relate(bob, old_at_b, "follow")
        await a.site.social.following.relate(dan, alice.identity, "follow")
        await eventually(lambda: _is(_follows(b, bob, old_at_b), (True, False)), "a to accept bob's follow")

        async with a.client() as at_a:
            assert (await sign_in(at_a, "alice", PASSWORD)).status_code == 303
            refused = await _settings_form(at_a, "/settings/move", move_to=new_handle, password=PASSWORD)
            assert refused.status_code == 422
            assert f"add {old_handle} as an alias on your new account first" in refused.text
            wrong = await _settings_form(at_a, "/settings/move", move_to=new_handle, password="not it at all")
            assert wrong.status_code == 401 and "The password is wrong" in wrong.text

            async with b.client() as at_b:
                assert (await sign_in(at_b, "alice", PASSWORD)).status_code == 303
                added = await _settings_form(at_b, "/settings/aliases", alias=old_handle)
                assert added.status_code == 303, added.text
                assert (await _actor(b, "alice"))["alsoKnownAs"] == [f"{a.site.base_url}/users/alice"]
                assert f"{a.site.base_url}/users/alice" in (await at_b.get("/settings")).text

            moved = await _settings_form(at_a, "/settings/move", move_to=new_handle, password=PASSWORD)
            assert moved.status_code == 303 and moved.headers["location"] == "/settings?notice=moved"
            assert "This account has moved to" in (await at_a.get("/settings")).text

        new_at_a = await a.site.directory.resolve(new_handle)
        assert new_at_a is not None
        assert await _follows(a, dan, alice.identity) == (False, False)      # dan moved at once
        assert (await _follows(a, dan, new_at_a))[0] or (await _follows(a, dan, new_at_a))[1]

        async def two_followers_at_b() -> bool:
            return (await b.site.social.following.person(new_alice.identity)).followers == 2
        await eventually(two_followers_at_b, "bob (by the Move) and dan (by his Follow) to follow alice on b")
        await eventually(lambda: _is(_follows(a, dan, new_at_a), (True, False)), "b to accept dan's follow")
        assert await _follows(b, bob, new_alice.identity) == (True, False)
        assert await _follows(b, bob, old_at_b) == (False, False)

        async def nobody_follows_the_old_account() -> bool:
            return (await a.site.social.following.person(alice.identity)).followers == 0
        await eventually(nobody_follows_the_old_account, "bob's Undo(Follow) at a")

        assert (await _actor(a, "alice"))["movedTo"] == f"{b.site.base_url}/users/alice"
        async with a.client() as visitor:
            profile = await visitor.get("/@alice")
        assert "has moved to" in profile.text and f'href="/@{new_handle}"' in profile.text
        old_at_b_person = await b.site.social.following.person(old_at_b)
        assert old_at_b_person.moved is not None and old_at_b_person.moved.identity == new_alice.identity

        async with b.client() as at_b:                       # an alias can be taken back
            assert (await sign_in(at_b, "alice", PASSWORD)).status_code == 303
            removed = await _settings_form(at_b, "/settings/aliases/remove", alias=f"{a.site.base_url}/users/alice")
            assert removed.status_code == 303
        assert (await _actor(b, "alice"))["alsoKnownAs"] == []


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value == expected)
