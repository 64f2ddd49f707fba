"""``GET /media/{digest}``: the files of the blob store, served so that none can run as a page.

The content type comes from the file's first bytes (the magic numbers of the four image
formats weft accepts), never from a type stored with it or given by whoever uploaded it.
Anything else is sent as ``application/octet-stream`` to be downloaded, with a sandboxing
policy and ``nosniff``, so that even an HTML file someone slipped into the store cannot
run on this origin. Blobs are named by their sha256, so a name never changes content:
browsers and proxies may keep them for a year.

``GET /media/remote/{key}`` (and ``…/small``, the thumbnail) is where the client API names a
Fediverse post's image that the remote media cache does not keep yet (Mastodon's media
proxy): it is fetched then, waiting up to ``REMOTE_WAIT_S``, and the answer redirects to
the file kept here; 404 when it cannot be kept or its domain's media are rejected.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from weft.errors import NotFound
from weft.site import Site

__all__ = ["REMOTE_WAIT_S", "media_file", "remote_media_file", "sniff_image_type"]

_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
REMOTE_WAIT_S: Final = 20.0
_HEADERS: Final = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cache-control": "public, max-age=31536000, immutable",
    # Mastodon apps on other origins show these images too.
    "cross-origin-resource-policy": "cross-origin",
}


def sniff_image_type(head: bytes) -> str | None:
    """The image type the first bytes of a file announce (JPEG, PNG, WebP, GIF), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as file:
            return file.read(16)
    except (FileNotFoundError, IsADirectoryError):
        return None


async def media_file(request: Request, site: Site) -> Response:
    digest = request.path_params["digest"]
    if not _DIGEST.fullmatch(digest):
        raise NotFound("no such media file")
    path = site.blobs.path(digest)
    head = await asyncio.to_thread(_head, path)
    if head is None:
        raise NotFound("no such media file")
    kind = sniff_image_type(head)
    if kind is not None:
        return FileResponse(path, media_type=kind, headers=_HEADERS)
    return FileResponse(path, media_type="application/octet-stream", headers=_HEADERS, filename=digest)


async def remote_media_file(request: Request, site: Site) -> Response:
    key = request.path_params["key"]
    if not _DIGEST.fullmatch(key):
        raise NotFound("no such media file")
    small = request.url.path.endswith("/small")
    digest = await site.social.remote_media.file_of(key, small=small, timeout=REMOTE_WAIT_S)
    if digest is None:
        raise NotFound("this file is not available here")
    # Not kept by caches: the file behind it may be evicted, and then fetched again.
    return RedirectResponse(f"{site.base_url}/media/{digest}", status_code=302,
                            headers={"cache-control": "no-store"})
