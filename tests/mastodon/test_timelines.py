"""Timelines through the client API: whose posts each holds, and Mastodon's paging by
max_id, since_id and min_id, followed through Link headers without overlap or gaps."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from .served import Served
from .test_accounts import bearer, peer_identity
from .test_statuses import follow, post


def _links(answer: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', answer.headers.get("link", ""))}


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [status["id"] for status in answer.json()]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_home_public_local_and_tag_timelines_hold_whom_they_should(served: Served) -> None:
    carol = served.run(peer_identity(served.site.node, "Carol"))  # not hosted here: public, not local
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        mine = post(client, alice, status="mine #Tea")
        bobs = post(client, bob, status="bob's #tea")
        quiet = post(client, bob, status="bob, unlisted", visibility="unlisted")
        private = post(client, bob, status="bob, followers only", visibility="private")

        assert _ids(client.get("/api/v1/timelines/home", headers=alice)) == [mine["id"]]
        follow(served, "alice", "bob")
        assert _ids(client.get("/api/v1/timelines/home", headers=alice)) == [
            private["id"], quiet["id"], bobs["id"], mine["id"]]

        public = _ids(client.get("/api/v1/timelines/public"))
        assert public[:2] == [bobs["id"], mine["id"]] and len(public) == 3  # and Carol's "hello"
        carols = client.get("/api/v1/timelines/public").json()[2]
        assert carols["account"]["display_name"] == "Carol" and carols["content"] == "<p>hello</p>"
        assert carol.did.removeprefix("did:weft:")[:16] == carols["account"]["acct"]
        assert _ids(client.get("/api/v1/timelines/public", params={"local": "true"})) == [bobs["id"], mine["id"]]
        assert _ids(client.get("/api/v1/timelines/public", params={"remote": "true"})) == []
        assert _ids(client.get("/api/v1/timelines/tag/TEA")) == [bobs["id"], mine["id"]]
        served.run(served.site.node.publish({"type": "post", "text": "carol's #tea", "tags": ["tea"]}, author=carol))
        tagged = client.get("/api/v1/timelines/tag/tea").json()
        assert [s["account"]["display_name"] for s in tagged] == ["Carol", "bob", "Alice"]
        assert _ids(client.get("/api/v1/timelines/tag/tea", params={"local": "true"})) == [bobs["id"], mine["id"]]
        assert _ids(client.get("/api/v1/timelines/tag/tea", params={"remote": "1"})) == []
        assert _ids(client.get("/api/v1/timelines/tag/coffee")) == []

        assert client.get("/api/v1/timelines/home").status_code == 401
        assert client.get("/api/v1/timelines/public", headers={"authorization": "Bearer x"}).status_code == 401
        no_reading = bearer(client, "alice", scope="write")
        assert client.get("/api/v1/timelines/home", headers=no_reading).status_code == 403
        assert client.get("/api/v1/timelines/public", headers=no_reading).status_code == 403
        assert client.get("/api/v1/timelines/public", params={"limit": "many"}).status_code == 422


def test_only_media_keeps_posts_with_images(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        media = client.post("/api/v1/media", headers=alice, files={"file": ("a.jpg", jpeg(), "image/jpeg")})
        assert media.status_code == 200, media.text
        pictured = post(client, alice, status="look #pics", media_ids=[media.json()["id"]])
        for n in range(3):
            post(client, alice, status=f"words {n} #pics")
        assert _ids(client.get("/api/v1/timelines/public", params={"only_media": "true"})) == [pictured["id"]]
        assert _ids(client.get("/api/v1/timelines/tag/pics", params={"only_media": "1"})) == [pictured["id"]]
        assert len(_ids(client.get("/api/v1/timelines/public"))) == 4


def test_pages_follow_link_headers_without_overlap_or_gaps(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        made = [post(client, alice, status=f"number {n}")["id"] for n in range(7)]
        newest_first = list(reversed(made))

        first = client.get("/api/v1/timelines/home", params={"limit": 3}, headers=alice)
        pages = [_ids(first)]
        assert set(_links(first)) == {"next", "prev"}
        assert _links(first)["next"].startswith(f"{served.url}/api/v1/timelines/home?")
        assert "limit=3" in _links(first)["next"]
        answer = first
        while "next" in _links(answer):
            answer = client.get(_links(answer)["next"], headers=alice)
            if not _ids(answer):
                assert "link" not in answer.headers
                break
            pages.append(_ids(answer))
        assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]

        # Back up from the oldest page through the prev links: the pages just after min_id.
        answer = client.get("/api/v1/timelines/home", params={"limit": 3, "max_id": made[1]}, headers=alice)
        assert _ids(answer) == [made[0]]
        back = []
        while "prev" in _links(answer):
            answer = client.get(_links(answer)["prev"], headers=alice)
            if not _ids(answer):
                break
            back.append(_ids(answer))
        assert back == [[made[3], made[2], made[1]], [made[6], made[5], made[4]]]

        since = _ids(client.get("/api/v1/timelines/home", params={"since_id": made[3], "limit": 2}, headers=alice))
        assert since == [made[6], made[5]]  # since_id: the newest ones
        between = client.get("/api/v1/timelines/home", params={"max_id": made[5], "since_id": made[1]}, headers=alice)
        assert _ids(between) == [made[4], made[3], made[2]]
        assert len(_ids(client.get("/api/v1/timelines/home", params={"limit": 1000}, headers=alice))) == 7
