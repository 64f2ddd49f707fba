"""Federation's part in the remote media cache (weft.media.remote_cache): the fetch it is
handed, through this server's one outgoing client and within its limits, and the word, as
posts and profiles arrive, that their images are wanted.

The cache lives in weft.media and knows no HTTP; the faces that show its files (the web app,
the client API) may not import federation. So the node assembly makes the cache here
(:func:`remote_media_cache`) and sets it on ``site.remote_media``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import orjson

from weft.federation.fetching_errors import FetchError
from weft.ingest import Outcome
from weft.ingest_foreign import ForeignOffer
from weft.media.remote_cache import FetchImage, RemoteMediaCache
from weft.media.remote_files import RemoteFetchError, RemoteMediaSettings, images_named

if TYPE_CHECKING:
    from weft.federation.service import Federation

__all__ = ["IMAGE_ACCEPT", "image_fetcher", "remote_media_cache", "want_images"]

IMAGE_ACCEPT: Final = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.1"
# What a server may call an image: its type, or the generic types that object stores give
# files they know nothing about (the decoder then decides). An HTML page is none of these.
_GENERIC_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream"})
_NAMING_KEYS: Final = (b'"url"', b'"avatar"', b'"header"')


def _image_type(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind.startswith("image/") or kind in _GENERIC_TYPES


def image_fetcher(federation: Federation) -> FetchImage:
    """``fetch(url, max_bytes)`` for the cache: a GET through the federation client (public
    addresses only, time and redirect limits, per-host fairness), unsigned as media are
    public files, read no further than ``max_bytes``."""
    async def fetch(url: str, max_bytes: int) -> bytes:
        try:
            fetched = await federation.client.get(url, accept=IMAGE_ACCEPT, accepts=_image_type,
                                                  max_bytes=max_bytes)
        except FetchError as error:
            raise RemoteFetchError(str(error), kind=error.kind, retryable=error.retryable) from error
        return fetched.body

    return fetch


def remote_media_cache(federation: Federation, environ: Mapping[str, str] = os.environ) -> RemoteMediaCache:
    """The site's cache: the node's blob store and media upkeep, this federation's fetch, and
    server moderation's word on which hosts' media are rejected (suspended ones included)."""
    site = federation.site

    async def rejected(host: str) -> bool:
        policy = await site.social.moderation.policy(host)
        return policy is not None and policy.reject_media

    return RemoteMediaCache(site.node.db, site.node.media, image_fetcher(federation), clock=site.node.clock,
                            rejected=rejected, settings=RemoteMediaSettings.from_env(environ))


def want_images(federation: Federation, offers: Sequence[ForeignOffer], outcomes: Sequence[Outcome], *,
                origin: str) -> None:
    """Ask the cache for the images of what was just stored (posts' attachments, profiles'
    avatars and headers) by an actor of ``origin`` (a host), to be fetched in the background."""
    cache = federation.site.remote_media
    if cache is None:
        return
    urls: list[str] = []
    for offer, outcome in zip(offers, outcomes, strict=False):
        # Cheap test first: likes, follows and text-only posts name no file.
        if outcome.status != "stored" or not any(key in offer.content for key in _NAMING_KEYS):
            continue
        try:
            content = orjson.loads(offer.content)
        except orjson.JSONDecodeError:   # ingest stored it, so it was JSON; never seen
            continue
        if isinstance(content, dict):
            urls += images_named(content)
    if urls:
        cache.want(urls, origin=origin)
