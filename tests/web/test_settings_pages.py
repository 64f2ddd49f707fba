"""The settings page: a profile saved as a signed entry, email and password changes that
ask for the password, the identity's devices, and the archive to take away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from weft.archive import import_archive
from weft.config import NodeConfig
from weft.node import Node

from .site_server import RunningSite, csrf_of, serving, sign_in, sign_up

PASSWORD = "a fine password"


async def settings_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/settings")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def signed_up(running: RunningSite, client: httpx.AsyncClient, username: str, **fields: str) -> str:
    """Sign up ``username`` and return the DID of their identity."""
    assert (await sign_up(client, username, **fields)).status_code == 303
    return (await running.site.accounts.by_username(username)).did


async def test_the_profile_is_a_signed_entry_merged_with_the_current_one(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        did = await signed_up(running, client, "alice", display_name="Alice")
        author = running.site.accounts.author(await running.site.accounts.by_username("alice"))
        # What the form does not show stays: a picture set elsewhere, and fields past the fourth.
        await running.node.publish({"type": "profile", "name": "Alice", "avatar": "blob:abc", "bot": True,
                                    "fields": [[f"n{index}", f"v{index}"] for index in range(6)]},
                                   author=author)
        page = await client.get("/settings")
        assert 'value="n3"' in page.text and 'value="n4"' not in page.text

        saved = await client.post("/settings/profile", data={
            "csrf": csrf_of(page.text), "name": "Alice in Weftland", "bio": "Curiouser & curiouser",
            "field_name_0": "Website", "field_value_0": "https://alice.example",
            "field_name_1": "", "field_value_1": "", "field_name_2": "Pronouns", "field_value_2": "she/her",
            "field_name_3": "", "field_value_3": "", "locked": "on"})

        assert saved.status_code == 303 and saved.headers["location"] == "/settings?notice=profile_saved"
        profile = (await running.node.profile(did))["profile"]
        assert profile["name"] == "Alice in Weftland" and profile["bio"] == "Curiouser & curiouser"
        assert profile["fields"] == [["Website", "https://alice.example"], ["Pronouns", "she/her"],
                                     ["n4", "v4"], ["n5", "v5"]]
        assert profile["locked"] is True and profile["avatar"] == "blob:abc" and profile["bot"] is True
        page = await client.get("/settings?notice=profile_saved")
        assert "Your profile is saved." in page.text and 'id="locked" name="locked" checked' in page.text

        cleared = await client.post("/settings/profile", data={"csrf": csrf_of(page.text), "name": "Alice"})
        assert cleared.status_code == 303
        profile = (await running.node.profile(did))["profile"]
        # n4 and n5 had moved up into the form's four rows, which came back empty.
        assert "bio" not in profile and profile["locked"] is False and profile["fields"] == []


async def test_a_profile_too_long_is_shown_again_with_the_reason(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        did = await signed_up(running, client, "bob")
        refused = await client.post("/settings/profile", data={
            "csrf": await settings_csrf(client), "name": "B" * 101, "bio": "still here"})
        assert refused.status_code == 422
        assert "The display name is longer than 100 characters." in refused.text
        assert "B" * 101 in refused.text and ">still here</textarea>" in refused.text
        assert (await running.node.profile(did))["profile"]["name"] == "bob"


async def test_changing_the_password_asks_for_the_current_one_and_ends_other_sessions(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client, running.client() as other:
        await signed_up(running, client, "carol")
        assert (await sign_in(other, "carol", PASSWORD)).status_code == 303
        token = await settings_csrf(client)

        wrong = await client.post("/settings/password", data={
            "csrf": token, "current_password": "not it", "new_password": "a newer password",
            "new_password_again": "a newer password"})
        assert wrong.status_code == 401 and "The current password is wrong." in wrong.text
        differ = await client.post("/settings/password", data={
            "csrf": token, "current_password": PASSWORD, "new_password": "a newer password",
            "new_password_again": "a newer passwort"})
        assert differ.status_code == 422 and "The two new passwords are not the same." in differ.text

        changed = await client.post("/settings/password", data={
            "csrf": token, "current_password": PASSWORD, "new_password": "a newer password",
            "new_password_again": "a newer password"})

        assert changed.headers["location"] == "/settings?notice=password_changed"
        assert (await client.get("/settings")).status_code == 200       # this session stays
        assert (await other.get("/settings")).status_code == 303        # the other one ended
        async with running.client() as third:
            assert (await sign_in(third, "carol", PASSWORD)).status_code == 401
            assert (await sign_in(third, "carol", "a newer password")).status_code == 303


async def test_the_email_address_changes_only_with_the_password(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await signed_up(running, client, "dave", email="dave@example.org")
        token = await settings_csrf(client)

        wrong = await client.post("/settings/email", data={
            "csrf": token, "email": "mallory@example.org", "password": "guess"})
        assert wrong.status_code == 401 and "The password is wrong." in wrong.text
        assert 'value="mallory@example.org"' in wrong.text
        bad = await client.post("/settings/email", data={"csrf": token, "email": "nope", "password": PASSWORD})
        assert bad.status_code == 422 and "does not look like an email address" in bad.text
        assert (await running.site.accounts.by_username("dave")).email == "dave@example.org"

        ok = await client.post("/settings/email", data={
            "csrf": token, "email": "dave@new.example", "password": PASSWORD})
        assert ok.headers["location"] == "/settings?notice=email_changed"
        assert (await running.site.accounts.by_username("dave")).email == "dave@new.example"


async def test_the_settings_list_the_identity_s_devices(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        did = await signed_up(running, client, "erin")
        page = await client.get("/settings")
        (device,) = (await running.node.state(did)).devices
        assert f'<td class="key">{device}</td>' in page.text and "<td>web</td>" in page.text


async def test_the_archive_downloads_and_imports_into_another_node(
        make_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        did = await signed_up(running, client, "fay", display_name="Fay")
        await client.post("/settings/profile", data={"csrf": await settings_csrf(client), "name": "Fay Weft"})

        download = await client.get("/settings/archive")

        assert download.status_code == 200
        assert download.headers["content-disposition"] == 'attachment; filename="weft-archive-fay.weft"'
        assert download.headers["cache-control"] == "no-store"
    archive = tmp_path / "fay.weft"
    archive.write_bytes(download.content)
    async with Node.open(make_config("elsewhere")) as other:
        result = await import_archive(other, archive)
        assert result["identity"] == did and result["rejected"] == 0
        assert (await other.profile(did))["profile"]["name"] == "Fay Weft"
