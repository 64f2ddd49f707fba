"""Delete and redraft: a deleted post's images may be posted again, as Mastodon apps do
when they put a deleted post back in the compose box."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from weft.errors import UsageError
from weft.node import Node
from weft.site import Site
from weft.social import Draft

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 160, 90)).save(out, "JPEG")
    return out.getvalue()


async def test_a_deleted_posts_images_can_be_posted_again(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        upload = await social.uploads.upload(alice, jpeg(), description="green")
        assert (await social.uploads.wait(alice, upload.id, seconds=30)).state == "ready"
        first = await social.posting.compose(alice, Draft("take one", media_ids=(upload.id,)))
        with pytest.raises(UsageError, match="another post"):
            await social.posting.compose(alice, Draft("twice", media_ids=(upload.id,)))
        gone = await social.posting.delete(alice, first.id)
        assert [a.id for a in gone.attachments] == [str(upload.id)]
        again = await social.posting.compose(alice, Draft("take two", media_ids=(upload.id,)))
        assert [(a.id, a.alt) for a in again.attachments] == [(str(upload.id), "green")]
        await social.close()
