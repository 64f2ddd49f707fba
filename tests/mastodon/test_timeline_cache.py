"""Timeline pages are kept (weft.social.freshness) and never outlive what they show: a post
of this process, a bookmark, a write by another process on the same database, an expiry."""

from __future__ import annotations

import time

import httpx

from weft.node import Node

from .served import Served
from .test_accounts import bearer
from .test_statuses import post


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [status["id"] for status in answer.json()]


def test_a_kept_page_is_served_until_something_it_shows_changes(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        first = post(client, alice, status="first")
        assert _ids(client.get("/api/v1/timelines/home", headers=alice)) == [first["id"]]
        pages = served.site.social.pages
        kept = len(pages._pages)
        assert kept >= 1                         # the page is kept ...
        again = client.get("/api/v1/timelines/home", headers=alice)
        assert _ids(again) == [first["id"]] and len(pages._pages) == kept   # ... and served from there

        second = post(client, alice, status="second")           # an entry of this process
        assert _ids(client.get("/api/v1/timelines/home", headers=alice)) == [second["id"], first["id"]]

        client.post(f"/api/v1/statuses/{first['id']}/bookmark", headers=alice).raise_for_status()
        shown = client.get("/api/v1/timelines/home", headers=alice).json()
        assert [s["bookmarked"] for s in shown] == [False, True]   # a private write, not an entry

        fleeting = post(client, alice, status="soon gone", expires_in=61)
        assert _ids(client.get("/api/v1/timelines/home", headers=alice))[0] == fleeting["id"]


def test_a_write_by_another_process_ends_kept_pages(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        assert _ids(client.get("/api/v1/timelines/public")) == []

        async def write_elsewhere() -> None:
            # A second node on the same database: its commits reach this one only by polling.
            async with Node.open(served.site.node.config) as other:
                account = await served.site.accounts.by_username("alice")
                author = served.site.accounts.author(await served.site.accounts.account(account.id))
                await other.publish({"type": "post", "text": "from elsewhere", "visibility": "public"}, author=author)

        served.run(write_elsewhere())
        deadline = time.monotonic() + 10
        while not _ids(client.get("/api/v1/timelines/public")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_ids(client.get("/api/v1/timelines/public"))) == 1
        del alice
