"""Which blobs a piece of content names: the one rule the media upkeep and archives share.

A post names its images in ``attachments``: an object's ``blob`` and ``thumb`` (sha256 hex
digests), or an item that is a digest itself. A profile names its ``avatar`` and ``header``
by this node's address for them, ``…/media/{digest}`` (how the client API keeps an upload).
Other content names no blob. Pure: the store asks it of stored content, an archive of the
content it carries (docs/protocol/archive.md).
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeGuard

__all__ = ["blobs_named", "is_blob_digest", "media_digest"]

_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_MEDIA_ADDRESS: Final = re.compile(r"/media/([0-9a-f]{64})(?![0-9a-f])")


def is_blob_digest(value: object) -> TypeGuard[str]:
    """A blob id: 64 lowercase hex digits (the sha256 of the blob's bytes)."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def media_digest(value: object) -> str | None:
    """The blob a profile image names by some node's ``…/media/{digest}`` address (the client
    API keeps an upload so), whichever node that was: an account that moved here with its
    archive brought the file along, under the same digest."""
    if not isinstance(value, str) or not value.lower().startswith(("https://", "http://")):
        return None
    path = value.split("://", 1)[1].partition("/")[2]
    found = _MEDIA_ADDRESS.fullmatch("/" + path)
    return found.group(1) if found else None


def blobs_named(content: Any) -> set[str]:
    """The digests a post's attachments or a profile's images name (nothing for other content)."""
    if not isinstance(content, dict):
        return set()
    found: set[str] = set()
    attachments = content.get("attachments")
    if content.get("type") == "post" and isinstance(attachments, list):
        for item in attachments:
            values = [item.get("blob"), item.get("thumb")] if isinstance(item, dict) else [item]
            found.update(v for v in values if is_blob_digest(v))
    elif content.get("type") == "profile":
        for key in ("avatar", "header"):
            value = content.get(key)
            if isinstance(value, str):
                found.update(_MEDIA_ADDRESS.findall(value))
    return found
