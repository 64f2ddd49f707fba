"""The page cache's bounds (weft.social.freshness): however many distinct URLs a client
asks for, what is kept stays within its page count and byte budget, oldest used first out."""

from __future__ import annotations

from weft.node import Node
from weft.social.freshness import PageCache


async def test_kept_pages_stay_within_their_byte_budget_and_count(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        pages = PageCache(node, capacity=50, budget_bytes=16_000)
        for number in range(500):
            generation = pages.generation()
            pages.put(("viewer", f"/api/v1/timelines/home?x={number}"), generation, b"x" * 700, {})
            assert pages._bytes <= 16_000 and len(pages._pages) <= 50
        assert pages._bytes == sum(len(page.body) for page in pages._pages.values())
        assert pages.get(("viewer", "/api/v1/timelines/home?x=499")) is not None
        assert pages.get(("viewer", "/api/v1/timelines/home?x=0")) is None
        pages.put("huge", pages.generation(), b"y" * 2_000, {})    # over a sixteenth of the budget
        assert pages.get("huge") is None
        pages.put("again", pages.generation(), b"z" * 100, {})
        pages.put("again", pages.generation(), b"z" * 300, {})     # replacing counts once
        assert pages._bytes == sum(len(page.body) for page in pages._pages.values())
        pages.bump()
        assert pages._bytes == 0 and pages.get("again") is None
        pages.close()
