"""Favourites, reblogs and bookmarks through the client API, and the lists of who
favourited or reblogged a status, paged by Link headers."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from weft.config import NodeConfig

from .conftest import PASSWORD
from .served import Served, serve
from .test_accounts import bearer
from .test_statuses import post


def test_favourite_reblog_and_bookmark_and_their_undoing(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        status = post(client, alice, status="like me")
        path = f"/api/v1/statuses/{status['id']}"

        liked = client.post(path + "/favourite", headers=bob).json()
        assert liked["favourited"] is True and liked["favourites_count"] == 1 and liked["id"] == status["id"]
        assert client.post(path + "/favourite", headers=bob).json()["favourites_count"] == 1  # idempotent
        assert client.get(path, headers=bob).json()["favourited"] is True
        assert client.get(path, headers=alice).json()["favourited"] is False

        boosted = client.post(path + "/reblog", headers=bob)
        assert boosted.status_code == 200, boosted.text
        wrapper = boosted.json()
        assert wrapper["id"] != status["id"] and wrapper["account"]["username"] == "bob"
        assert wrapper["reblog"]["id"] == status["id"] and wrapper["reblog"]["reblogged"] is True
        assert wrapper["reblog"]["reblogs_count"] == 1 and wrapper["reblog"]["account"]["username"] == "alice"
        assert wrapper["content"] == "" and wrapper["reblogged"] is True
        again = client.post(path + "/reblog", headers=bob).json()
        assert again["id"] == wrapper["id"] and again["reblog"]["reblogs_count"] == 1

        saved = client.post(path + "/bookmark", headers=bob).json()
        assert saved["bookmarked"] is True and saved["id"] == status["id"]
        assert [s["id"] for s in client.get("/api/v1/bookmarks", headers=bob).json()] == [status["id"]]
        assert [s["id"] for s in client.get("/api/v1/favourites", headers=bob).json()] == [status["id"]]
        assert client.get("/api/v1/bookmarks", headers=alice).json() == []

        assert client.post(path + "/unfavourite", headers=bob).json()["favourited"] is False
        undone = client.post(path + "/unreblog", headers=bob).json()
        assert undone["id"] == status["id"] and undone["reblogged"] is False and undone["reblogs_count"] == 0
        assert client.post(path + "/unbookmark", headers=bob).json()["bookmarked"] is False
        assert client.get("/api/v1/bookmarks", headers=bob).json() == []
        assert client.get("/api/v1/favourites", headers=bob).json() == []
        assert client.post(path + "/unfavourite", headers=bob).status_code == 200  # idempotent too

        for word in ("favourite", "reblog", "bookmark"):
            assert client.post(f"/api/v1/statuses/123456/{word}", headers=bob).status_code == 404
            assert client.post(path + f"/{word}").status_code == 401
        no_bookmarks = bearer(client, "bob", scope="write:statuses read")
        assert client.post(path + "/bookmark", headers=no_bookmarks).status_code == 403
        assert client.post(path + "/favourite", headers=no_bookmarks).status_code == 403
        assert client.post(path + "/reblog", headers=no_bookmarks).status_code == 200
        assert client.get("/api/v1/bookmarks").status_code == 401


def _links(answer: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', answer.headers.get("link", ""))}


def test_who_favourited_and_reblogged_pages_backwards(make_config: Callable[[str], NodeConfig]) -> None:
    names = [f"fan{n}" for n in range(5)]
    with serve(make_config("n")) as served:
        served.run(served.site.accounts.sign_up("alice", PASSWORD))
        for name in names:
            served.run(served.site.accounts.sign_up(name, PASSWORD))
        with httpx.Client(base_url=served.url, timeout=30) as client:
            status = post(client, bearer(client, "alice"), status="popular")
            path = f"/api/v1/statuses/{status['id']}"
            for name in names:
                token = bearer(client, name)
                assert client.post(path + "/favourite", headers=token).status_code == 200
                if name != "fan0":
                    assert client.post(path + "/reblog", headers=token).status_code == 200

            seen: list[str] = []
            url: str | None = path + "/favourited_by?limit=2"
            while url:
                page = client.get(url)
                assert page.status_code == 200, page.text
                if not page.json():
                    break
                seen += [account["username"] for account in page.json()]
                assert len(page.json()) <= 2 and "prev" not in _links(page)
                url = _links(page).get("next")
            assert seen == list(reversed(names))  # newest first, each once

            reblogged = client.get(path + "/reblogged_by").json()
            assert [account["username"] for account in reblogged] == list(reversed(names[1:]))
            assert client.get("/api/v1/statuses/999/favourited_by").status_code == 404
            assert client.get(path + "/favourited_by?limit=x").status_code == 422
