"""Avatars and headers through ``update_credentials``: re-encoded and resized, kept in the
blob store, named by URL in the signed profile, served by the site; an image that cannot
be used changes nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import httpx
from PIL import Image

from weft.config import NodeConfig

from ..web.site_server import serving
from .people import account_of, token
from .served import Served

BLOB_URL = re.compile(r"/media/([0-9a-f]{64})$")


def image(size: tuple[int, int], kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (250, 120, 0)).save(out, kind)
    return out.getvalue()


def test_an_avatar_and_a_header_are_kept_resized_and_named_in_the_profile(served: Served) -> None:
    alice = account_of(served, "alice")
    with httpx.Client(base_url=served.url, timeout=60) as client:
        as_alice = token(client, "alice")
        changed = client.patch("/api/v1/accounts/update_credentials", headers=as_alice,
                               data={"display_name": "Alice A.", "note": "hi"},
                               files={"avatar": ("me.png", image((800, 600), "PNG"), "image/png"),
                                      "header": ("wide.jpg", image((3000, 1000), "JPEG"), "image/jpeg")})
        assert changed.status_code == 200, changed.text
        me = changed.json()
        assert me["display_name"] == "Alice A." and me["note"] == "<p>hi</p>"
        sizes = {}
        for key in ("avatar", "header"):
            assert me[key].startswith(f"{served.url}/media/") and me[f"{key}_static"] == me[key]
            found = BLOB_URL.search(me[key])
            assert found is not None, me[key]
            kept = Image.open(io.BytesIO(served.site.blobs.get(found.group(1))))
            sizes[key] = (kept.format, kept.size)
        assert sizes == {"avatar": ("PNG", (400, 300)), "header": ("JPEG", (1500, 500))}
        profile = served.run(served.site.node.profile(alice.did))["profile"]
        assert profile["avatar"] == me["avatar"] and profile["header"] == me["header"]
        assert client.get("/api/v1/accounts/verify_credentials", headers=as_alice).json()["avatar"] == me["avatar"]
        assert client.get(f"/api/v1/accounts/{alice.identity}").json()["header"] == me["header"]

        # Only the header changes; the avatar stays.
        again = client.patch("/api/v1/accounts/update_credentials", headers=as_alice,
                             files={"header": ("h.png", image((10, 10), "PNG"), "image/png")})
        assert again.status_code == 200 and again.json()["avatar"] == me["avatar"]
        assert again.json()["header"] != me["header"]


def test_an_image_that_cannot_be_used_changes_nothing(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        as_alice = token(client, "alice")
        before = client.get("/api/v1/accounts/verify_credentials", headers=as_alice).json()
        refusals = [
            {"avatar": ("x.png", b"\x89PNG not really", "image/png")},
            {"avatar": ("empty.png", b"", "image/png")},
            {"header": ("huge.bin", b"\0" * (8 * 1024 * 1024 + 1), "application/octet-stream")},
            {"banner": ("b.png", image((10, 10), "PNG"), "image/png")},
        ]
        for files in refusals:
            refused = client.patch("/api/v1/accounts/update_credentials", headers=as_alice,
                                   data={"display_name": "Changed"}, files=files)
            assert refused.status_code == 422, (list(files), refused.text)
            assert isinstance(refused.json()["error"], str)
        bad_field = client.patch("/api/v1/accounts/update_credentials", headers=as_alice,
                                 data={"display_name": "x" * 101},
                                 files={"avatar": ("a.png", image((10, 10), "PNG"), "image/png")})
        assert bad_field.status_code == 422
        after = client.get("/api/v1/accounts/verify_credentials", headers=as_alice).json()
        assert after == before
        reader = token(client, "alice", "read")
        assert client.patch("/api/v1/accounts/update_credentials", headers=reader,
                            files={"avatar": ("a.png", image((10, 10), "PNG"), "image/png")}).status_code == 403


async def test_the_site_serves_the_avatar_it_names(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ={"WEFT_RATE_LIMITS": "off"}) as running:
        await running.site.accounts.sign_up("alice", "a fine password", by_admin=True)
        async with running.client() as client:
            app = (await client.post("/api/v1/apps", data={"client_name": "t", "scopes": "read write",
                                                           "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).json()
            granted = await client.post("/oauth/token", data={
                "grant_type": "password", "username": "alice", "password": "a fine password",
                "scope": "read write", "client_id": app["client_id"], "client_secret": app["client_secret"]})
            bearer = {"authorization": f"Bearer {granted.json()['access_token']}"}
            changed = await client.patch("/api/v1/accounts/update_credentials", headers=bearer,
                                         files={"avatar": ("me.png", image((64, 64), "PNG"), "image/png")})
            assert changed.status_code == 200, changed.text
            avatar = changed.json()["avatar"]
            served = await client.get(avatar.removeprefix(running.url))
            assert served.status_code == 200 and served.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(served.content)).size == (64, 64)
