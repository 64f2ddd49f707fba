"""A person's pictures move with their archive: exported from one node, imported and served on
another, kept there while their posts live and removed when the posts go."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import orjson
import pytest
from PIL import Image

from weft.archive import import_archive
from weft.core.archive_blobs import BLOB_PART_BYTES
from weft.errors import ArchiveError

from ..web.site_server import RunningSite, serving
from ..web.social_people import ENV, Member, jpeg, people
from .conftest import MakeConfig, row_counts


def noisy_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A photo-like picture: noise compresses badly, so even re-encoded it takes several parts."""
    pixels = random.Random(7).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def archived_content(archive: bytes) -> list[dict[str, object]]:
    return [orjson.loads(line)["content"] for line in archive.splitlines()
            if line.startswith(b'{"content":{')]


async def download_archive(member: Member) -> bytes:
    response = await member.get("/settings/archive")
    assert response.status_code == 200, response.text
    return bytes(response.content)


async def served(running: RunningSite, digest: str) -> tuple[int, bytes, str]:
    async with running.client() as visitor:
        response = await visitor.get(f"/media/{digest}")
    return response.status_code, response.content, response.headers.get("content-type", "")


def age(running: RunningSite, digests: list[str]) -> None:
    """Make the files older than the sweep's grace period, as if imported long ago."""
    for digest in digests:
        os.utime(running.site.blobs.path(digest), (0, 0))


async def test_pictures_move_with_the_archive_and_leave_with_their_posts(any_config: MakeConfig,
                                                                          tmp_path: Path) -> None:
    archive = tmp_path / "alice.weft"
    later = tmp_path / "alice-later.weft"
    async with serving(any_config("old"), environ=ENV) as old, people(old) as folks:
        alice = await folks.join("alice")
        uploads = old.site.social.uploads
        upload = await uploads.upload(alice.account, noisy_jpeg(), description="static")
        upload = await uploads.wait(alice.account, upload.id, seconds=30)
        status = await alice.compose("my first photo", media_ids=(upload.id,))
        avatar = await uploads.profile_image(jpeg(300, 300, (20, 20, 200)), max_side=400)
        author = old.site.accounts.author(alice.account)
        await old.node.publish({"type": "profile", "name": "Alice",
                                "avatar": f"{old.site.base_url}/media/{avatar}"}, author=author)
        archive.write_bytes(await download_archive(alice))
        (attachment,) = next(c for c in archived_content(archive.read_bytes()) if c.get("type") == "post")[
            "attachments"]  # type: ignore[misc]
        picture, thumb = attachment["blob"], attachment["thumb"]
        originals = {digest: old.site.blobs.get(digest) for digest in (picture, thumb, avatar)}
        # Then, on the old node, the post is deleted and the avatar replaced: a later archive says so.
        await old.site.social.posting.delete(alice.account, status.id, keep_media=False)
        await old.node.publish({"type": "profile", "name": "Alice"}, author=author)
        later.write_bytes(await download_archive(alice))
    assert len(originals[picture]) > 2 * BLOB_PART_BYTES  # the photo went in several parts

    async with serving(any_config("new"), environ=ENV) as new:
        before = await row_counts(new.node)
        damaged = bytearray(archive.read_bytes())
        damaged[damaged.index(b'{"blob":') + 200] ^= 0x01
        (tmp_path / "damaged.weft").write_bytes(bytes(damaged))
        with pytest.raises(ArchiveError, match=r"^line \d+: blob "):
            await import_archive(new.node, tmp_path / "damaged.weft")
        assert await row_counts(new.node) == before and list(new.site.blobs.scan()) == []

        result = await import_archive(new.node, archive)
        assert (result["blobs"], result["blobs_new"], result["blobs_missing"]) == (3, 3, 0)
        assert result["blob_bytes"] == sum(map(len, originals.values()))
        for digest, data in originals.items():
            assert await served(new, digest) == (200, data, "image/jpeg")

        # The sweep spares what the archive brought, however old the files: their posts hold them.
        age(new, list(originals))
        assert await new.node.media.sweep() == 0
        again = await import_archive(new.node, archive)
        assert (again["new"], again["blobs"], again["blobs_new"]) == (0, 3, 0)

        # The later archive brings the delete and the new profile: the pictures go, here too.
        moved_on = await import_archive(new.node, later)
        assert moved_on["new"] == 2 and moved_on["rejected"] == 0
        for digest in (picture, thumb):
            assert (await served(new, digest))[0] == 404
        assert (await served(new, avatar))[0] == 200        # until the sweep: an old profile holds nothing
        await new.node.media.sweep()
        assert (await served(new, avatar))[0] == 404
        assert list(new.site.blobs.scan()) == []
