"""Media through the client API: v2 uploads answered before processing (202, then 206 while
it runs, 200 when done), v1 uploads that wait, alt text, failures with their reason, and
images that a post then carries."""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
from PIL import Image

from .served import Served
from .test_accounts import bearer
from .test_statuses import post
from .test_timelines import jpeg


def large_jpeg() -> bytes:
    """12 megapixels: seconds of work for the media worker, a few hundred KB to send."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _ready(client: httpx.Client, media_id: str, token: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/media/{media_id}", headers=token)
        if answer.status_code != 206:
            assert answer.status_code == 200, answer.text
            return dict(answer.json())
        time.sleep(0.1)
    raise AssertionError("the upload was not processed within a minute")


def test_a_v2_upload_is_processed_after_the_answer(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        alice = bearer(client, "alice")
        made = client.post("/api/v2/media", headers=alice, files={"file": ("big.jpg", large_jpeg(), "image/jpeg")},
                           data={"description": "a grey gradient", "focus": "0.1,0.2"})
        assert made.status_code == 202, made.text
        assert made.json()["url"] is None and made.json()["description"] == "a grey gradient"
        assert made.json()["type"] == "image"
        media_id = made.json()["id"]
        waiting = client.get(f"/api/v1/media/{media_id}", headers=alice)
        assert waiting.status_code == 206 and waiting.json()["url"] is None

        done = _ready(client, media_id, alice)
        assert done["url"].startswith(f"{served.url}/media/") and done["preview_url"].startswith(f"{served.url}/media/")
        assert done["preview_url"] != done["url"] and done["blurhash"]
        assert done["meta"]["original"]["width"] == 1920 and done["meta"]["original"]["height"] == 1440
        assert done["meta"]["small"]["width"] <= 400

        described = client.put(f"/api/v1/media/{media_id}", json={"description": "a gradient, grey"}, headers=alice)
        assert described.status_code == 200 and described.json()["description"] == "a gradient, grey"

        status = post(client, alice, status="", media_ids=[media_id])
        [attached] = status["media_attachments"]
        assert attached["id"] == media_id and attached["url"] == done["url"]
        assert attached["description"] == "a gradient, grey" and attached["blurhash"] == done["blurhash"]
        assert attached["meta"]["original"]["width"] == 1920 and status["content"] == ""
        later = client.put(f"/api/v1/media/{media_id}", json={"description": "too late"}, headers=alice)
        assert later.status_code == 422
        again = client.post("/api/v1/statuses", json={"status": "twice", "media_ids": [media_id]}, headers=alice)
        assert again.status_code == 422 and "another post" in again.json()["error"]
        # Delete and redraft: the deleted post's image goes into the new one.
        redraft = client.delete(f"/api/v1/statuses/{status['id']}", headers=alice).json()
        assert [m["id"] for m in redraft["media_attachments"]] == [media_id]
        redone = post(client, alice, status=redraft["text"], media_ids=[media_id])
        assert redone["media_attachments"][0]["url"] == done["url"]


def test_a_v1_upload_waits_and_bad_files_say_why(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        waited = client.post("/api/v1/media", headers=alice, files={"file": ("a.jpg", jpeg(), "image/jpeg")})
        assert waited.status_code == 200, waited.text
        assert waited.json()["url"] and waited.json()["meta"]["original"]["width"] == 64

        broken = client.post("/api/v2/media", headers=alice, files={"file": ("a.jpg", b"not an image", "image/jpeg")})
        # The worker may refuse so small a file before the answer is written: then the answer says why.
        assert broken.status_code in (202, 422), broken.text
        failed = [upload_id for upload_id in served.run(_upload_ids(served, "alice"))]
        assert failed, "the upload is recorded either way"
        deadline = time.monotonic() + 60
        answer = client.get(f"/api/v1/media/{failed[-1]}", headers=alice)
        while answer.status_code == 206 and time.monotonic() < deadline:
            time.sleep(0.1)
            answer = client.get(f"/api/v1/media/{failed[-1]}", headers=alice)
        assert answer.status_code == 422 and answer.json()["error"]
        broken_id = failed[-1]
        refused = client.post("/api/v1/media", headers=alice, files={"file": ("a.txt", b"plain text", "text/plain")})
        assert refused.status_code == 422
        post_it = client.post("/api/v1/statuses", json={"status": "x", "media_ids": [broken_id]},
                              headers=alice)
        assert post_it.status_code == 422

        assert client.post("/api/v2/media", headers=alice, data={"description": "no file"}).status_code == 422
        assert client.post("/api/v2/media", headers=alice, json={"file": "x"}).status_code == 422
        empty = client.post("/api/v2/media", headers=alice, files={"file": ("a.jpg", b"", "image/jpeg")})
        assert empty.status_code == 422 and "empty" in empty.json()["error"]
        long_alt = client.post("/api/v2/media", headers=alice, files={"file": ("a.jpg", jpeg(), "image/jpeg")},
                               data={"description": "x" * 5000})
        assert long_alt.status_code == 422

        mine = waited.json()["id"]
        assert client.get(f"/api/v1/media/{mine}", headers=bob).status_code == 404
        assert client.put(f"/api/v1/media/{mine}", json={"description": "bob's"}, headers=bob).status_code == 404
        other = client.post("/api/v1/statuses", json={"status": "x", "media_ids": [mine]}, headers=bob)
        assert other.status_code == 404
        assert client.get(f"/api/v1/media/{mine}").status_code == 401
        reader = bearer(client, "alice", scope="read")
        assert client.post("/api/v2/media", headers=reader,
                           files={"file": ("a.jpg", jpeg(), "image/jpeg")}).status_code == 403
        assert client.get("/api/v1/media/nope", headers=alice).status_code == 404


async def _upload_ids(served: Served, username: str) -> list[str]:
    """The ids of a person's uploads, oldest first."""
    from sqlalchemy import select

    from weft.store.schema import media

    account = await served.site.accounts.by_username(username)
    async with served.site.node.db.read() as conn:
        rows = await conn.execute(select(media.c.id).where(media.c.account == account.id).order_by(media.c.id))
    return [str(row) for (row,) in rows.all()]
