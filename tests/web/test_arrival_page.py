"""Arriving through the web form (/auth/arrive) with the archive and recovery key downloaded
from another server: refusals keep the fields (never the passwords), a file past the limit
is a 413, uploads leave no temporary file behind, and success signs the person in with
their posts on their profile, in the client API, the public timeline and their ActivityPub
outbox."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from weft.config import NodeConfig
from weft.errors import NotFound
from weft.site import Limits

from ..accounts.departure import depart
from .site_server import csrf_of, form_page, serving

PASSWORD = "a password for node B"
ACTIVITY = "application/activity+json"


def _error(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', response.text)
    return found.group(1) if found else response.text


def _leftovers() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("weft-upload-*")}


async def _send(client: httpx.AsyncClient, token: str, archive: bytes, key: str, *,
                password: str = PASSWORD, **fields: str) -> httpx.Response:
    data = {"csrf": token, "username": "alice", "email": "alice@b.test", "password": password,
            "password_again": password, **fields}
    files = {"archive": ("alice.weft", archive, "application/octet-stream"),
             "recovery_key": ("weft-recovery-alice.key", key.encode(), "text/plain")}
    return await client.post("/auth/arrive", data=data, files=files)


async def test_arriving_through_the_web_form(make_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    gone = await depart(make_config("a"), tmp_path)
    archive = gone.archive.read_bytes()
    before = _leftovers()
    limits = Limits.defaults({"WEFT_RATE_LIMITS": "off"})
    async with serving(make_config("b"), limits=limits) as running, running.client() as client:
        assert 'href="/auth/arrive"' in (await client.get("/auth/sign_up")).text
        token = await form_page(client, "/auth/arrive")
        page = (await client.get("/auth/arrive")).text
        assert 'enctype="multipart/form-data"' in page and "at most 1 GiB" in page

        wrong = await _send(client, token, archive, gone.bob_recovery_key)
        assert wrong.status_code == 422 and "not a rotation key" in wrong.text
        assert 'value="alice@b.test"' in wrong.text and 'value="alice"' in wrong.text
        assert PASSWORD not in wrong.text
        tampered = archive.replace(b"first post", b"First post", 1)
        refused = await _send(client, csrf_of(wrong.text), tampered, gone.recovery_key)
        assert refused.status_code == 422 and "(content_mismatch)" in _error(refused)
        different = await _send(client, token, archive, gone.recovery_key, password_again="something else")
        assert different.status_code == 422 and "not the same" in different.text
        forged = await _send(client, "not the token", archive, gone.recovery_key)
        assert forged.status_code == 403
        no_key = await client.post("/auth/arrive", data={"csrf": token, "username": "alice",
                                                         "password": PASSWORD, "password_again": PASSWORD},
                                   files={"archive": ("alice.weft", archive)})
        assert no_key.status_code == 422 and "recovery key file" in no_key.text

        running.site.max_archive_bytes = len(archive) - 1
        large = await _send(client, token, archive, gone.recovery_key)
        assert large.status_code == 413 and "larger than this server takes" in large.text
        running.site.max_archive_bytes = len(archive)
        with pytest.raises(NotFound):
            await running.site.accounts.by_username("alice")

        arrived = await _send(client, token, archive, gone.recovery_key)
        assert arrived.status_code == 303 and arrived.headers["location"] == "/@alice", arrived.text
        assert _leftovers() == before, "the uploads are removed"

        profile = (await client.get("/@alice")).text
        assert "Alice Archived" in profile and "moving soon" in profile
        assert all(text in profile for text in gone.texts) and gone.gone not in profile
        settings = await client.get("/settings")
        assert settings.status_code == 200 and "no longer holds it" in settings.text

        account = (await client.get("/api/v1/accounts/lookup", params={"acct": "alice"})).json()
        assert account["statuses_count"] == 2 and account["display_name"] == "Alice Archived"
        statuses = (await client.get(f"/api/v1/accounts/{account['id']}/statuses")).json()
        assert {status["content"] for status in statuses} >= {"<p>first post, edited</p>"}
        public = (await client.get("/api/v1/timelines/public")).json()
        assert len(public) == 2
        outbox = (await client.get("/users/alice/outbox?page=true", headers={"accept": ACTIVITY})).json()
        assert len(outbox["orderedItems"]) == 2
        assert {item["object"]["content"] for item in outbox["orderedItems"]} >= {"<p>first post, edited</p>"}

        again = httpx.AsyncClient(base_url=running.url)
        async with again:
            token = await form_page(again, "/auth/arrive")
            twice = await _send(again, token, archive, gone.recovery_key, username="alice2", email="")
            assert twice.status_code == 409 and "already has an account" in twice.text, _error(twice)
        assert _leftovers() == before
