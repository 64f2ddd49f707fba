"""A deleted, expired or purged post's images leave the disk, unless something still shows them.

Deletion is a guarantee (decision 0002), and an image is part of its post (decision 0004,
"Removal"). Each test looks at the blob store's files themselves: the image and its
thumbnail are there before, and gone (or kept, when another post or a redraft holds them)
after.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from tests.conftest import FakeClock
from weft import custody
from weft.accounts import Account
from weft.config import NodeConfig
from weft.errors import NotFound
from weft.media.upkeep import ORPHAN_GRACE_S, SWEEP_EVERY_S, WAITING_KEPT_MS
from weft.node import Node
from weft.site import Site
from weft.social import Draft, Status
from weft.store.schema import media

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


def jpeg(colour: tuple[int, int, int] = (20, 160, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


@asynccontextmanager
async def hosted(config: NodeConfig, clock: FakeClock) -> AsyncIterator[tuple[Node, Site]]:
    async with Node.open(config, clock=clock) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        try:
            yield node, site
        finally:
            await site.social.close()


async def post_with_image(site: Site, account: Account, data: bytes, *, text: str = "look",
                          expires_in_ms: int | None = None) -> tuple[Status, int, list[Path]]:
    """A post carrying ``data``; its upload id and the files of its image and thumbnail."""
    upload = await site.social.uploads.upload(account, data)
    ready = await site.social.uploads.wait(account, upload.id, seconds=30)
    assert ready.state == "ready" and ready.blob and ready.thumb, ready
    status = await site.social.posting.compose(account, Draft(text, media_ids=(upload.id,),
                                                              expires_in_ms=expires_in_ms))
    files = [site.blobs.path(ready.blob), site.blobs.path(ready.thumb)]
    assert all(path.is_file() for path in files)
    return status, upload.id, files


def age(path: Path, seconds: float) -> None:
    """Make a file look ``seconds`` old (the sweep's grace period is counted on file times)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_a_deleted_posts_image_and_thumbnail_leave_the_disk(any_config: Callable[[str], NodeConfig],
                                                                  clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (_, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        status, upload_id, files = await post_with_image(site, alice, jpeg())

        await site.social.posting.delete(alice, status.id, keep_media=False)

        assert [path for path in files if path.exists()] == []
        with pytest.raises(NotFound):  # its upload went with it
            await site.social.uploads.get(alice, upload_id)


async def test_two_posts_of_the_same_image_keep_it_until_both_are_gone(any_config: Callable[[str], NodeConfig],
                                                                       clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (_, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        first, _, files = await post_with_image(site, alice, jpeg())
        second, _, same = await post_with_image(site, bob, jpeg(), text="me too")
        assert same == files  # content-addressed: one file for both

        await site.social.posting.delete(alice, first.id, keep_media=False)
        assert all(path.is_file() for path in files)
        assert [a.blob for a in (await site.social.statuses.status(bob, second.id)).attachments] == [files[0].name]

        await site.social.posting.delete(bob, second.id, keep_media=False)
        assert [path for path in files if path.exists()] == []


async def test_a_delete_by_someone_else_removes_no_image(any_config: Callable[[str], NodeConfig],
                                                         clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        mallory = await site.accounts.sign_up("mallory", "a long password", by_admin=True)
        status, _, files = await post_with_image(site, alice, jpeg())

        # Signed and stored (a delete names any entry), but only the author's delete counts.
        await node.publish({"type": "delete", "target": status.row.entry_id}, author=site.accounts.author(mallory))

        assert all(path.is_file() for path in files)
        assert [a.blob for a in (await site.social.statuses.status(alice, status.id)).attachments] == [files[0].name]


async def test_an_expired_posts_image_leaves_the_disk(any_config: Callable[[str], NodeConfig],
                                                      clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        _, _, files = await post_with_image(site, alice, jpeg(), expires_in_ms=60_000)
        _, _, lasting = await post_with_image(site, alice, jpeg((200, 30, 30)), text="stays")

        assert await node.purge_expired() == 0
        assert all(path.is_file() for path in files)
        clock.advance(60_001)
        assert await node.purge_expired() == 1

        assert [path for path in files if path.exists()] == []
        assert all(path.is_file() for path in lasting)


async def test_a_redraft_keeps_the_images_and_an_abandoned_one_loses_them(
        any_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        first, upload_id, files = await post_with_image(site, alice, jpeg())
        dropped, dropped_id, dropped_files = await post_with_image(site, alice, jpeg((0, 0, 200)), text="oops")

        gone = await site.social.posting.delete(alice, first.id)   # as Mastodon apps delete and redraft
        await site.social.posting.delete(alice, dropped.id)
        assert [a.id for a in gone.attachments] == [str(upload_id)]
        assert all(path.is_file() for path in [*files, *dropped_files])
        again = await site.social.posting.compose(alice, Draft("take two", media_ids=(upload_id,)))
        assert [a.blob for a in again.attachments] == [files[0].name]

        clock.advance(WAITING_KEPT_MS + 1)   # no redraft of the other came
        await node.media.sweep()
        assert all(path.is_file() for path in files)
        assert [path for path in dropped_files if path.exists()] == []
        with pytest.raises(NotFound):
            await site.social.uploads.get(alice, dropped_id)


async def test_an_upload_never_posted_is_kept_an_hour(any_config: Callable[[str], NodeConfig],
                                                      clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        upload = await site.social.uploads.wait(alice, (await site.social.uploads.upload(alice, jpeg())).id,
                                                seconds=30)
        assert upload.blob is not None
        clock.advance(WAITING_KEPT_MS - 1)
        await node.media.sweep()
        assert site.blobs.has(upload.blob)
        clock.advance(2)
        await node.media.sweep()
        assert not site.blobs.has(upload.blob)


async def test_a_post_whose_uploads_were_never_attached_keeps_its_image(
        any_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        status, upload_id, files = await post_with_image(site, alice, jpeg())
        async with node.db.write() as conn:   # the process died between publishing and attaching
            await conn.execute(update(media).where(media.c.id == upload_id).values(post=None))

        clock.advance(WAITING_KEPT_MS + 1)
        await node.media.sweep()

        assert all(path.is_file() for path in files)
        await site.social.posting.delete(alice, status.id, keep_media=False)   # found its post again
        assert [path for path in files if path.exists()] == []


async def test_a_block_by_the_nodes_own_person_removes_the_blocked_accounts_images(
        any_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        await custody.init_identity(node, "operator")
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        _, _, files = await post_with_image(site, alice, jpeg())
        _, _, kept = await post_with_image(site, bob, jpeg((0, 0, 0)))

        await node.relate("block", alice.did)

        assert [path for path in files if path.exists()] == []
        assert all(path.is_file() for path in kept)


async def test_the_sweep_removes_what_a_crash_between_commit_and_removal_left(
        any_config: Callable[[str], NodeConfig], clock: FakeClock) -> None:
    async with hosted(any_config("n"), clock) as (node, site):
        await custody.init_identity(node, "operator")
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        status, _, files = await post_with_image(site, alice, jpeg())
        _, _, lasting = await post_with_image(site, alice, jpeg((9, 9, 9)), text="stays")
        release, node.ingest.on_blobs_freed = node.ingest.on_blobs_freed, None   # the crash
        await site.social.posting.delete(alice, status.id, keep_media=False)
        node.ingest.on_blobs_freed = release
        assert all(path.is_file() for path in files)   # at worst an orphan, never a missing file

        blobs = node.media.blobs
        orphan = blobs.path(blobs.put(b"an image whose upload was cut off after the file was written"))
        young = blobs.path(blobs.put(b"an image being uploaded right now"))
        avatar = blobs.path(blobs.put(b"an avatar, named by a profile and by no upload"))
        await node.set_profile(avatar=f"http://social.test/media/{avatar.name}")
        temporary = orphan.parent / ".tmp-abc123"
        temporary.write_bytes(b"half a file")
        for path in (orphan, avatar, temporary, *lasting):
            age(path, ORPHAN_GRACE_S + 60)

        removed = await node.media.sweep()

        assert not orphan.exists() and not temporary.exists()
        assert [path for path in files if path.exists()] == []
        assert young.is_file() and avatar.is_file() and all(path.is_file() for path in lasting)
        assert removed == 4


async def test_the_sweep_runs_at_start_and_then_when_due(make_config: Callable[[str], NodeConfig],
                                                         clock: FakeClock) -> None:
    config = make_config("n")
    async with hosted(config, clock) as (node, _):
        first = node.media.blobs.path(node.media.blobs.put(b"left by a crash before this start"))
    age(first, ORPHAN_GRACE_S + 60)
    async with hosted(config, clock) as (node, _):
        assert not first.exists()   # swept as the node opened
        second = node.media.blobs.path(node.media.blobs.put(b"left by a crash while serving"))
        age(second, ORPHAN_GRACE_S + 60)
        await node.purge_expired()  # the periodic upkeep: swept a moment ago, so not yet
        assert second.exists()
        age(config.data_dir / "media" / ".swept", SWEEP_EVERY_S + 60)
        await node.purge_expired()
        assert not second.exists()
