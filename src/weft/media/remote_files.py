"""What the remote media cache (weft.media.remote_cache) takes and within which limits: the
files it fetches (:func:`cacheable`, :func:`images_named`), its settings, and the error its
fetch raises. Pure: no I/O.

Settings (environment, read by :meth:`RemoteMediaSettings.from_env`): ``WEFT_MEDIA_CACHE_MB``
(the budget, default 2048; 0 keeps nothing and shows links to the originals),
``WEFT_MEDIA_CACHE_FILE_MB`` (the largest file fetched, default 16) and
``WEFT_MEDIA_CACHE_FETCHES`` (fetches at once, default 4).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from weft.errors import UsageError
from weft.media.errors import MediaError

__all__ = ["RemoteFetchError", "RemoteMediaSettings", "cacheable", "images_named"]

_MIB: Final = 1024 * 1024


class RemoteFetchError(MediaError):
    """Fetching a remote file failed: ``kind`` says how (as weft.federation's FetchError
    does: ``too-large``, ``bad-content-type``, ``status``...), ``retryable`` whether asking
    again later may succeed."""

    def __init__(self, message: str, *, kind: str, retryable: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable


def cacheable(mime: object) -> bool:
    """Whether a file declared as ``mime`` is fetched: images, and files that do not say (the
    fetch and the decoder find out). Video and audio are left as links to their server."""
    return mime is None or (isinstance(mime, str) and mime.lower().startswith("image/"))


def _web_url(value: object) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("https://", "http://"))


def images_named(content: Mapping[str, Any]) -> list[str]:
    """The URLs of the images foreign content shows: a post's image attachments, a profile's
    avatar and header."""
    found: list[str] = []
    if content.get("type") == "post" and isinstance(content.get("attachments"), list):
        for item in content["attachments"]:
            if isinstance(item, dict) and "blob" not in item and _web_url(item.get("url")) and cacheable(
                    item.get("mime")):
                found.append(item["url"])
    elif content.get("type") == "profile":
        found += [content[key] for key in ("avatar", "header") if _web_url(content.get(key))]
    return list(dict.fromkeys(found))


def _megabytes(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default * _MIB
    if not text.isdigit():
        raise UsageError(f"{name} must be a whole number of MiB, not {text!r}")
    return int(text) * _MIB


@dataclass(frozen=True)
class RemoteMediaSettings:
    """The cache's limits; see the module docstring."""

    budget_bytes: int = 2048 * _MIB
    max_file_bytes: int = 16 * _MIB
    fetches: int = 4
    max_waiting: int = 1000
    first_retry_ms: int = 10 * 60 * 1000
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.budget_bytes < 0:
            raise UsageError("the media cache's budget cannot be negative")
        if min(self.max_file_bytes, self.fetches, self.max_waiting, self.first_retry_ms, self.max_attempts) < 1:
            raise UsageError("the media cache's file size, fetches, waiting, retry time and attempts must be positive")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RemoteMediaSettings:
        fetches = environ.get("WEFT_MEDIA_CACHE_FETCHES", "").strip() or "4"
        if not fetches.isdigit():
            raise UsageError(f"WEFT_MEDIA_CACHE_FETCHES must be a whole number, not {fetches!r}")
        return cls(budget_bytes=_megabytes(environ, "WEFT_MEDIA_CACHE_MB", 2048),
                   max_file_bytes=_megabytes(environ, "WEFT_MEDIA_CACHE_FILE_MB", 16), fetches=int(fetches))

    @property
    def enabled(self) -> bool:
        return self.budget_bytes > 0
