"""A person's posts and boosts as each viewer sees them (Reader.of_account), on SQLite and
PostgreSQL: Mastodon's filters, pages through posts and boosts alike, and blocks."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from weft.accounts import Account
from weft.node import Node
from weft.site import Site
from weft.social import Draft
from weft.store.account_statuses import AccountFilters
from weft.store.statuses import Page

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 200, 0)).save(out, "PNG")
    return out.getvalue()


async def test_filters_pages_and_blocks(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social, reader = site.social, site.social.statuses
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        carol = await site.accounts.sign_up("carol", "a long password", by_admin=True)

        bobs = await social.posting.compose(bob, Draft("bob's"))
        plain = await social.posting.compose(alice, Draft('says "attachments":[] in words'))
        upload = await social.uploads.upload(alice, _png())
        await social.uploads.wait(alice, upload.id, seconds=30)
        pictured = await social.posting.compose(alice, Draft("with a picture", media_ids=(upload.id,)))
        answer = await social.posting.compose(alice, Draft("to bob", reply_to=bobs.id))
        own = await social.posting.compose(alice, Draft("more #News", reply_to=plain.id))
        boost = (await social.posting.react(alice, bobs.id, "reblog", on=True)).boost
        assert boost is not None
        self_boost = (await social.posting.react(alice, own.id, "reblog", on=True)).boost
        assert self_boost is not None

        async def ids(viewer: Account | None = None, page: Page = Page(), **filters: Any) -> list[int]:
            return [s.id for s in await reader.of_account(viewer, alice.identity, page, AccountFilters(**filters))]

        everything = [self_boost.id, boost.id, own.id, answer.id, pictured.id, plain.id]
        assert await ids() == everything
        shown = await reader.of_account(None, alice.identity, Page())
        assert shown[0].boost is not None and shown[0].row.id == own.id and shown[2].boost is None
        assert await ids(only_media=True) == [pictured.id]
        assert await ids(exclude_replies=True) == [self_boost.id, boost.id, own.id, pictured.id, plain.id]
        assert await ids(exclude_reblogs=True) == [own.id, answer.id, pictured.id, plain.id]
        assert await ids(tag="news") == [own.id]

        pages, cursor = [], None
        while True:
            page = await ids(page=Page(limit=2, max_id=cursor))
            if not page:
                break
            pages += page
            cursor = page[-1]
        assert pages == everything
        assert await ids(page=Page(limit=2, min_id=plain.id)) == [answer.id, pictured.id]
        assert await ids(page=Page(limit=2, since_id=plain.id)) == everything[:2]
        assert await ids(page=Page(limit=3, max_id=boost.id, min_id=pictured.id)) == [own.id, answer.id]

        await social.following.relate(bob, carol.identity, "block")       # bob's post is hidden from carol
        assert await ids(carol) == [self_boost.id, own.id, answer.id, pictured.id, plain.id]
        await social.following.relate(alice, carol.identity, "block")     # and now alice shows her nothing
        assert await ids(carol) == []
        assert await ids(bob) == everything
        await social.close()
