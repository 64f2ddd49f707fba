"""The social service end to end on one node, on SQLite and PostgreSQL: what two people
do to each other's posts, and what each of them sees afterwards."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from weft.errors import Forbidden, NotFound, UsageError
from weft.node import Node
from weft.site import Site
from weft.social import Draft

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def _site(node: Node) -> Site:
    return Site.for_node(node, "http://social.test", environ=ENV)


async def test_posting_mentions_replies_reactions_and_notifications(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        social = site.social
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)

        first = await social.posting.compose(alice, Draft("Hello @bob and @nobody, see #Weft", summary="cw"))
        assert [p.username for p in first.mentioned] == ["bob"]
        assert first.row.tags == ("weft",) and first.row.sensitive and first.row.summary == "cw"
        reply = await social.posting.compose(bob, Draft("hi back", reply_to=first.id))
        assert reply.row.reply_to == first.row.entry_id and [p.username for p in reply.mentioned] == ["alice"]

        liked = await social.posting.react(bob, first.id, "favourite", on=True)
        assert liked.favourited and liked.row.likes == 1
        again = await social.posting.react(bob, first.id, "favourite", on=True)   # idempotent
        assert again.row.likes == 1
        boosted = await social.posting.react(bob, first.id, "reblog", on=True)
        assert boosted.boost is not None and boosted.boost.by.username == "bob" and boosted.id != first.id

        kinds = [n.kind for n in await social.notices.page(alice, limit=20)]
        assert kinds == ["reblog", "favourite", "reply"]
        assert [n.kind for n in await social.notices.page(bob, limit=20)] == ["mention"]

        unliked = await social.posting.react(bob, first.id, "favourite", on=False)
        assert not unliked.favourited and unliked.row.likes == 0
        assert [n.kind for n in await social.notices.page(alice, limit=20)] == ["reblog", "reply"]

        ancestors, descendants = await social.statuses.context(alice, reply.id)
        assert [s.id for s in ancestors] == [first.id] and descendants == []
        _, below = await social.statuses.context(bob, first.id)
        assert [s.id for s in below] == [reply.id]

        edited = await social.posting.edit(alice, first.id, text="Hello again #weft")
        assert edited.row.text == "Hello again #weft" and edited.row.edited_ts is not None
        _, versions = await social.statuses.history(bob, first.id)
        assert [v["text"] for v in versions] == ["Hello @bob and @nobody, see #Weft", "Hello again #weft"]
        with pytest.raises(Forbidden):
            await social.posting.edit(bob, first.id, text="not mine")

        marked = await social.posting.bookmark(bob, first.id, on=True)
        assert marked.bookmarked
        from weft.store.statuses import Page
        assert [s.id for s in await social.statuses.timeline(bob, "bookmarks", Page())] == [first.id]

        gone = await social.posting.delete(alice, first.id)
        assert gone.row.text == "Hello again #weft"
        with pytest.raises(NotFound):
            await social.statuses.status(bob, first.id)
        await social.close()


async def test_followers_only_posts_and_follow_requests(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        social = site.social
        carol = await site.accounts.sign_up("carol", "a long password", by_admin=True)
        dave = await site.accounts.sign_up("dave", "a long password", by_admin=True)
        from weft.api.mastodon.directory import Directory, ProfileChange
        await Directory(site).update_profile(carol, ProfileChange(locked=True))

        secret = await social.posting.compose(carol, Draft("for followers", visibility="followers"))
        with pytest.raises(NotFound):
            await social.statuses.status(dave, secret.id)
        with pytest.raises(NotFound):
            await social.posting.react(dave, secret.id, "favourite", on=True)

        asked = await social.following.relate(dave, carol.identity, "follow")
        assert asked.requested and not asked.following
        requests = await social.following.follow_requests(carol, limit=10)
        assert [p.username for p in requests] == ["dave"]
        assert [n.kind for n in await social.notices.page(carol, limit=5)] == ["follow_request"]
        with pytest.raises(NotFound):
            await social.statuses.status(dave, secret.id)

        await social.following.answer(carol, dave.identity, accept=True)
        assert (await social.following.relationships(dave, [carol.identity]))[0].following
        assert (await social.statuses.status(dave, secret.id)).row.text == "for followers"
        with pytest.raises(Forbidden):
            await social.posting.react(dave, secret.id, "reblog", on=True)
        assert [p.username for p in await social.following.followers(carol.identity, limit=10)] == ["dave"]

        blocked = await social.following.relate(carol, dave.identity, "block")
        assert blocked.blocking and not blocked.followed_by
        with pytest.raises(NotFound):
            await social.statuses.status(dave, secret.id)
        with pytest.raises(UsageError):
            await social.following.relate(carol, carol.identity, "mute")
        await social.close()


async def test_uploads_are_processed_and_attached_once(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        social = site.social
        erin = await site.accounts.sign_up("erin", "a long password", by_admin=True)
        frank = await site.accounts.sign_up("frank", "a long password", by_admin=True)
        upload = await social.uploads.upload(erin, jpeg(), description="a red square")
        ready = await social.uploads.wait(erin, upload.id, seconds=30)
        assert ready.state == "ready" and ready.blob and site.blobs.has(ready.blob)
        with pytest.raises(NotFound):
            await social.uploads.get(frank, upload.id)
        with pytest.raises(NotFound):
            await social.posting.compose(frank, Draft("", media_ids=(upload.id,)))
        post = await social.posting.compose(erin, Draft("", media_ids=(upload.id,)))
        (image,) = post.attachments
        assert image.alt == "a red square" and image.width == 64 and image.mime == "image/jpeg"
        assert image.id == str(upload.id)
        with pytest.raises(UsageError):
            await social.posting.compose(erin, Draft("twice", media_ids=(upload.id,)))
        broken = await social.uploads.upload(erin, b"not an image at all")
        failed = await social.uploads.wait(erin, broken.id, seconds=30)
        assert failed.state == "failed" and failed.error
        await social.close()


async def test_persons_read_together_are_the_persons_read_one_by_one(any_config) -> None:
    from weft.store import people
    from weft.store.schema import identities

    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        social = site.social
        names = ["gina", "hal", "ivy"]
        accounts = [await site.accounts.sign_up(name, "a long password", by_admin=True) for name in names]
        gina, hal, ivy = accounts
        from weft.api.mastodon.directory import Directory, ProfileChange
        await Directory(site).update_profile(ivy, ProfileChange(locked=True, display_name="Ivy"))
        await social.following.relate(gina, hal.identity, "follow")
        await social.following.relate(hal, gina.identity, "follow")
        await social.following.relate(gina, ivy.identity, "follow")        # a request: not counted
        await social.posting.compose(gina, Draft("one"))
        await social.posting.compose(gina, Draft("two", expires_in_ms=60_000))
        async with node.db.read() as conn:
            ids = [row for (row,) in (await conn.execute(identities.select().with_only_columns(identities.c.id))).all()]
            together = await people.persons(conn, ids, now_ms=node.clock())
            one_by_one = {i: await people.person(conn, i, now_ms=node.clock()) for i in ids}
        assert together == one_by_one
        assert together[gina.identity].followers == 1 and together[gina.identity].following == 1
        assert together[gina.identity].statuses == 2 and together[ivy.identity].follow_requests == 1
        await social.close()


async def test_a_hosted_account_blocking_another_hides_it_from_that_account_alone(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        social = site.social
        jan = await site.accounts.sign_up("jan", "a long password", by_admin=True)
        kim = await site.accounts.sign_up("kim", "a long password", by_admin=True)
        lee = await site.accounts.sign_up("lee", "a long password", by_admin=True)
        post = await social.posting.compose(kim, Draft("still here"))
        await social.following.relate(jan, kim.identity, "block")
        # Kim keeps her post, Lee still sees it; Jan's timelines do not show it.
        from weft.store.statuses import Page
        assert (await social.statuses.status(kim, post.id)).row.text == "still here"
        assert (await social.statuses.status(lee, post.id)).row.text == "still here"
        assert [s.id for s in await social.statuses.timeline(lee, "public", Page())] == [post.id]
        assert await social.statuses.timeline(jan, "public", Page()) == []
        later = await social.posting.compose(kim, Draft("and posting"))
        assert (await social.statuses.status(lee, later.id)).row.text == "and posting"
        await social.close()


async def test_a_post_with_control_characters_in_its_tags_and_text_is_stored(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = await _site(node)
        mia = await site.accounts.sign_up("mia", "a long password", by_admin=True)
        author = site.accounts.author(await site.accounts.account(mia.id))
        # As a peer could send it: NUL in a tag and in the text (PostgreSQL text holds no NUL).
        entry = await node.publish({"type": "post", "text": "odd\x00text #ok", "tags": ["bad\x00tag", "ok"]},
                                   author=author)
        from weft.store.statuses import row_of_entry, status_rows
        async with node.db.read() as conn:
            row = await row_of_entry(conn, entry.id)
            assert row is not None
            stored = (await status_rows(conn, [row], now_ms=node.clock()))[row]
        assert stored.tags == ("bad\x00tag", "ok")
        from weft.store.statuses import Page
        assert [s.row.row for s in await site.social.statuses.timeline(None, "tag", Page(), tag="ok")] == [row]
        await site.social.close()
