"""What the faces need beyond the text of a post: which post a reply answers (Mastodon's
in_reply_to_id) and the content warning of each version in a post's history."""

from __future__ import annotations

from weft.node import Node
from weft.site import Site
from weft.social import Draft

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


async def test_a_reply_names_its_parent_and_the_parents_author(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        first = await social.posting.compose(alice, Draft("first"))
        assert first.reply_to_id is None and first.reply_to_account is None
        reply = await social.posting.compose(bob, Draft("second", reply_to=first.id))
        assert reply.reply_to_id == first.id and reply.reply_to_account == alice.identity
        seen = await social.statuses.many(alice, [reply.id, first.id])
        assert [(s.id, s.reply_to_id) for s in seen] == [(reply.id, first.id), (first.id, None)]
        await social.close()


async def test_each_version_keeps_its_own_content_warning(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        post = await social.posting.compose(alice, Draft("spoilers", summary="film"))
        await social.posting.edit(alice, post.id, text="no spoilers now")
        await social.posting.edit(alice, post.id, text="careful again", summary="book", sensitive=True)
        _, versions = await social.statuses.history(alice, post.id)
        assert [(v["text"], v["summary"], v["sensitive"]) for v in versions] == [
            ("spoilers", "film", True), ("no spoilers now", None, True), ("careful again", "book", True)]
        await social.close()
