"""The remote media cache against real servers on loopback: a Fediverse post's images and its
author's avatar are fetched by the server, re-encoded without their metadata and served from
here; files too large or not images are refused (and remembered, not fetched again) and
shown as links; video stays a link; the budget evicts the least recently fetched, and the
client API's address of a file not kept fetches it again; a domain whose media are rejected
is neither fetched nor shown, and what was kept of it goes. Both backends.

The node is one weft served in-process; the actors are the fake Fediverse server's; their
files are on a second small server, named ``media.test`` by WEFT_FEDERATION_HOSTS.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from weft.accounts import Account
from weft.errors import UsageError
from weft.federation.urls import actor_url
from weft.media import process_image
from weft.media.remote_cache import RemoteMediaCache
from weft.media.remote_files import RemoteMediaSettings
from weft.media.upkeep import ORPHAN_GRACE_S
from weft.social import Status
from weft.social.moderation import normalize_domain
from weft.social.names import handle_of
from weft.store import remote_media as cache_rows
from weft.store.schema import identities
from weft.store.statuses import Page

from ..conftest import SessionLoop, backend_config
from ..loopback import serve_on_loopback
from ..media.pictures import SECRET, encode, gradient, halves, phone_exif
from ..web.site_server import RunningSite, serving
from .fediverse_fake import FakeActor, FakeServer

ENV = {"WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1", "WEFT_RATE_LIMITS": "off",
       "WEFT_NODE_SECRET": "ab" * 32, "WEFT_FEDERATION_HOSTS": "media.test=127.0.0.1"}
MAX_FILE = 40_000


@dataclass
class FileServer:
    """Files by name at ``http://media.test:PORT/{name}``, counting how often each was asked for."""

    url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    asked: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.files[name] = (data, content_type)
        return f"{self.url}/{name}"

    def app(self) -> Starlette:
        async def file(request: Request) -> Response:
            name = request.path_params["name"]
            self.asked[name] += 1
            if name not in self.files:
                return Response(b"no such file", status_code=404)
            data, content_type = self.files[name]
            return Response(data, media_type=content_type)

        return Starlette(routes=[Route("/{name}", file)])


class PicturedServer(FakeServer):
    """The fake Fediverse server, whose actors may have an avatar (``avatars``: name -> URL)."""

    avatars: dict[str, str]

    def actor_document(self, actor: FakeActor) -> dict[str, Any]:
        document = super().actor_document(actor)
        if actor.name in self.avatars:
            document["icon"] = {"type": "Image", "mediaType": "image/png", "url": self.avatars[actor.name]}
        return document


@dataclass
class World:
    node: RunningSite
    remote: PicturedServer
    files: FileServer
    alice: Account

    @property
    def cache(self) -> RemoteMediaCache:
        assert self.node.site.remote_media is not None
        return self.node.site.remote_media

    async def post(self, actor: FakeActor, *attachments: dict[str, Any]) -> Status:
        """``actor``'s post with these attachments, delivered to our inbox, with its files fetched."""
        note = self.remote.note(actor, "<p>look</p>", cc=[actor_url(self.node.url, "alice")])   # for someone here
        note["attachment"] = list(attachments)
        answer = await self.remote.deliver(actor, f"{self.node.url}/inbox", self.remote.create(actor, note))
        assert answer.status_code == 202, answer.text
        await self.cache.settle()
        async with self.node.site.node.db.read() as conn:
            author = (await conn.execute(select(identities.c.id).where(identities.c.did == actor.iri))).scalar_one()
        [status, *_] = await self.node.site.social.statuses.of_account(None, author, Page(limit=1))
        return status

    async def page(self, status: Status) -> str:
        async with self.node.client() as client:
            answer = await client.get(f"/@{handle_of(status.author)}/{status.id}")
        assert answer.status_code == 200, answer.text
        return answer.text

    async def api(self, path: str) -> Any:
        async with self.node.client() as client:
            answer = await client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def row(self, url: str) -> cache_rows.CachedMedia | None:
        async with self.node.site.node.db.read() as conn:
            return (await cache_rows.held(conn, [url])).get(url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, runner: SessionLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    stack = contextlib.AsyncExitStack()
    path: Path = tmp_path_factory.mktemp("media")

    async def start() -> World:
        files = FileServer()
        port = await stack.enter_async_context(serve_on_loopback(files.app()))
        files.url = f"http://media.test:{port}"
        remote = await stack.enter_async_context(_pictured())
        node = await stack.enter_async_context(serving(config, environ=ENV))
        assert node.site.federation is not None
        remote.weft_nodes[node.url] = node.site.federation.inbox_queue.settled
        alice = await node.site.accounts.sign_up("alice", "a long password", by_admin=True)
        world = World(node, remote, files, alice)
        world.cache.settings = RemoteMediaSettings(max_file_bytes=MAX_FILE)
        return world

    with backend_config(request, runner, path / "n", request.param) as config:
        try:
            yield runner.run(start())
        finally:
            runner.run(stack.aclose())


@contextlib.asynccontextmanager
async def _pictured() -> AsyncIterator[PicturedServer]:
    remote = PicturedServer()
    remote.avatars = {}
    async with serve_on_loopback(remote.app()) as port:
        remote.url = f"http://127.0.0.1:{port}"
        yield remote


def _image(url: str, mime: str = "image/jpeg", alt: str = "") -> dict[str, Any]:
    return {"type": "Document", "mediaType": mime, "url": url, "name": alt}


def _kept_size(data: bytes) -> int:
    image = process_image(data, max_bytes=MAX_FILE)
    return len(image.data) + len(image.thumb)


async def _blob(world: World, digest: str) -> bytes | None:
    async with world.node.client() as client:
        answer = await client.get(f"/media/{digest}")
    return answer.content if answer.status_code == 200 else None


async def test_images_are_kept_here_without_metadata_within_the_limits(world: World) -> None:
    files, base = world.files, world.node.url
    photo = encode(gradient((120, 80)), "JPEG", quality=95, exif=phone_exif(orientation=1), comment=SECRET)
    assert SECRET.encode() in photo and len(photo) < MAX_FILE
    gps = files.add(f"{uuid4().hex}.jpg", photo)
    huge = files.add(f"{uuid4().hex}.jpg", b"\xff\xd8\xff" + bytes(MAX_FILE))
    html = files.add(f"{uuid4().hex}.jpg", b"<html><body>not an image</body></html>", "text/html")
    clip = files.add(f"{uuid4().hex}.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    avatar = files.add(f"{uuid4().hex}.png", encode(halves((64, 64), (200, 30, 30), (30, 30, 200)), "PNG"), "image/png")
    bob = world.remote.add_actor(f"u{uuid4().hex[:10]}")
    world.remote.avatars[bob.name] = avatar

    status = await world.post(bob, _image(gps, alt="a field"), _image(huge), _image(html), _image(clip, "video/mp4"))

    kept = status.remote_media[0]
    assert [m.state for m in status.remote_media] == ["cached", "failed", "failed", "linked"]
    assert kept.blob is not None and kept.thumb is not None and (kept.width, kept.height) == (120, 80)
    served = await _blob(world, kept.blob)
    assert served is not None and SECRET.encode() not in served and b"Exif" not in served
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "JPEG" and len(image.getexif()) == 0
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert files.asked[clip.rsplit("/", 1)[1]] == 0                     # video is never fetched

    page = await world.page(status)
    assert f'href="/media/{kept.blob}"' in page and f'src="/media/{kept.thumb}" alt="a field"' in page
    assert f'src="{files.url}' not in page                             # the browser never asks there
    for url in (huge, html):
        assert f'Media this server could not keep · <a href="{url}" rel="nofollow noopener noreferrer">' in page
    assert f'Media on its own server · <a href="{clip}"' in page
    assert f'src="/media/{(await world.row(avatar)).thumb}"' in page    # type: ignore[union-attr]

    entity = await world.api(f"/api/v1/statuses/{status.id}")
    image, too_large, not_image, video = entity["media_attachments"]
    assert (image["type"], image["url"], image["preview_url"], image["remote_url"]) == (
        "image", f"{base}/media/{kept.blob}", f"{base}/media/{kept.thumb}", gps)
    assert image["meta"]["original"]["width"] == 120 and image["description"] == "a field"
    assert (too_large["type"], too_large["url"], too_large["remote_url"]) == ("unknown", huge, huge)
    assert (not_image["type"], not_image["preview_url"]) == ("unknown", None)
    assert (video["type"], video["url"]) == ("video", clip)
    assert entity["account"]["avatar"].startswith(f"{base}/media/")

    for url, why in ((huge, "too-large"), (html, "bad-content-type")):   # remembered for good
        row = await world.row(url)
        assert row is not None and row.state == "failed" and row.retry_at is None and why in (row.error or "")
    asked = Counter(files.asked)
    await world.page(status)
    await world.cache.settle()
    assert files.asked == asked                                          # nothing fetched again

    # The media sweep keeps what the cache holds, however old, and removes what nobody names.
    media = world.node.site.node.media
    orphan = media.blobs.put(b"a file nobody names")
    long_ago = time.time() - 2 * ORPHAN_GRACE_S
    for digest in (kept.blob, kept.thumb, orphan):
        os.utime(media.blobs.path(digest), (long_ago, long_ago))
    await media.sweep()
    assert media.blobs.has(kept.blob) and media.blobs.has(kept.thumb) and not media.blobs.has(orphan)


async def test_the_budget_evicts_the_least_recently_fetched(world: World) -> None:
    files, base, cache = world.files, world.node.url, world.cache
    pictures = [encode(halves(size, colour, (255 - colour[0], 90, 40)), "JPEG", quality=90)
                for size, colour in (((200, 150), (250, 10, 10)), ((200, 150), (10, 250, 10)),
                                     ((200, 150), (10, 10, 250)), ((120, 90), (120, 120, 10)))]
    sizes = [_kept_size(data) for data in pictures]
    assert sizes[3] <= min(sizes[:3])
    # Room for three of the four (what other tests kept is older: it goes first); the fourth
    # evicts the oldest of them.
    cache.settings = RemoteMediaSettings(max_file_bytes=MAX_FILE, budget_bytes=sum(sizes[:3]))
    carol = world.remote.add_actor(f"u{uuid4().hex[:10]}")
    urls = [files.add(f"{uuid4().hex}.jpg", data) for data in pictures]
    uploads = world.node.site.social.uploads   # alice uploads the second picture's bytes herself
    upload = await uploads.upload(world.alice, pictures[1])
    upload = await uploads.wait(world.alice, upload.id, seconds=60)
    try:
        statuses = [await world.post(carol, _image(url)) for url in urls[:3]]
        first, second = statuses[0].remote_media[0], statuses[1].remote_media[0]
        assert [s.remote_media[0].state for s in statuses] == ["cached"] * 3
        assert second.blob == upload.blob is not None                      # the same file, twice held
        await world.post(carol, _image(urls[3]))
        evicted = await world.row(urls[0])
        assert evicted is not None and evicted.state == "waiting" and evicted.blob is None
        assert await _blob(world, first.blob or "") is None                  # the file went with it
        assert [(await world.row(url)).state for url in urls[1:]] == ["ready"] * 3   # type: ignore[union-attr]
        async with world.node.site.node.db.read() as conn:
            assert await cache_rows.cached_bytes(conn) <= sum(sizes[:3])

        entity = await world.api(f"/api/v1/statuses/{statuses[0].id}")
        [media] = entity["media_attachments"]
        key = cache_rows.media_key(urls[0])
        assert (media["url"], media["preview_url"], media["remote_url"]) == (
            f"{base}/media/remote/{key}", f"{base}/media/remote/{key}/small", urls[0])
        async with world.node.client() as client:   # the client's address fetches it again
            moved = await client.get(f"/media/remote/{key}")
            assert moved.status_code == 302 and moved.headers["location"] == f"{base}/media/{first.blob}"
            again = await client.get(moved.headers["location"])
            assert again.status_code == 200 and again.headers["content-type"] == "image/jpeg"
            small = await client.get(f"/media/remote/{key}/small")
            assert small.headers["location"] == f"{base}/media/{first.thumb}"
            assert (await client.get(f"/media/remote/{'0' * 64}")).status_code == 404
        oldest = await world.row(urls[1])                                   # and now the oldest went
        assert oldest is not None and oldest.state == "waiting"
        assert await _blob(world, second.blob or "") is not None             # alice's upload keeps it
    finally:
        await cache.settle()
        cache.settings = RemoteMediaSettings(max_file_bytes=MAX_FILE)


async def test_rejected_media_are_neither_fetched_nor_shown_and_what_was_kept_goes(world: World) -> None:
    files, site, base = world.files, world.node.site, world.node.url
    moderation = site.social.moderation
    dave = world.remote.add_actor(f"u{uuid4().hex[:10]}")
    avatar = files.add(f"{uuid4().hex}.png", encode(halves((48, 48), (10, 10, 10), (240, 240, 240)), "PNG"),
                       "image/png")
    world.remote.avatars[dave.name] = avatar
    picture = files.add(f"{uuid4().hex}.jpg", encode(halves((90, 60), (10, 200, 200), (200, 10, 200)), "JPEG"))
    status = await world.post(dave, _image(picture, alt="kept first"))
    kept = status.remote_media[0]
    assert kept.state == "cached" and kept.blob is not None and status.author.avatar_media is not None

    # The poster's domain rules its files wherever they are: rejecting the media of the actors'
    # own server (127.0.0.1) takes the picture and the avatar kept from media.test.
    actors_domain = normalize_domain("127.0.0.1")
    await moderation.block_domain(actors_domain, "noop", reject_media=True)
    try:
        assert await _blob(world, kept.blob) is None
        account = await world.api(f"/api/v1/accounts/{status.author.identity}")
        assert account["avatar"] == f"{base}/avatars/original/missing.png"
        page = await world.page(status)
        assert "Media hidden by this server: kept first" in page and picture not in page
    finally:
        await moderation.unblock_domain(actors_domain)
    assert "Media not yet cached here" in await world.page(status)        # asked for again, once allowed
    await world.cache.settle()
    assert (await world.row(picture)).state == (await world.row(avatar)).state == "ready"  # type: ignore[union-attr]

    media_domain = normalize_domain("media.test")
    await moderation.block_domain(media_domain, "noop", reject_media=True)
    try:
        assert await _blob(world, kept.blob) is None                           # dropped when blocked
        row = await world.row(picture)
        assert row is not None and row.state == "rejected" and row.blob is None
        page = await world.page(status)
        assert "Media hidden by this server: kept first" in page and picture not in page
        entity = await world.api(f"/api/v1/statuses/{status.id}")
        [media] = entity["media_attachments"]
        assert (media["type"], media["url"], media["preview_url"], media["remote_url"], media["blurhash"]) == (
            "unknown", None, None, picture, None)
        async with world.node.client() as client:
            assert (await client.get(f"/media/remote/{kept.key}")).status_code == 404

        later = files.add(f"{uuid4().hex}.jpg", encode(halves((90, 60), (1, 2, 3), (4, 5, 6)), "JPEG"))
        newer = await world.post(dave, _image(later))
        assert newer.remote_media[0].state == "hidden" and files.asked[later.rsplit("/", 1)[1]] == 0
    finally:
        await moderation.unblock_domain(media_domain)
        await world.cache.settle()


def test_the_settings_are_read_from_the_environment() -> None:
    settings = RemoteMediaSettings.from_env({"WEFT_MEDIA_CACHE_MB": "64", "WEFT_MEDIA_CACHE_FILE_MB": "8",
                                             "WEFT_MEDIA_CACHE_FETCHES": "2"})
    assert (settings.budget_bytes, settings.max_file_bytes, settings.fetches) == (64 << 20, 8 << 20, 2)
    assert RemoteMediaSettings.from_env({}).budget_bytes == 2048 << 20
    assert not RemoteMediaSettings.from_env({"WEFT_MEDIA_CACHE_MB": "0"}).enabled
    for bad in ({"WEFT_MEDIA_CACHE_MB": "2G"}, {"WEFT_MEDIA_CACHE_FETCHES": "0"}, {"WEFT_MEDIA_CACHE_FILE_MB": "-1"}):
        with pytest.raises(UsageError, match=r"WEFT_MEDIA_CACHE|must be"):
            RemoteMediaSettings.from_env(bad)
