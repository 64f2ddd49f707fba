"""How a Fediverse post's files are shown here: kept by the remote media cache, waiting for
it, refused by it, hidden by server moderation, or (video, audio) left on their server.

Every face shows the same answer, made here from the cache's rows (weft.store.remote_media)
and the domain policies (weft.social.moderation), in one query per page of statuses. What is
shown but not kept yet (posts from before the cache, evicted files, failures worth another
try, avatars) is asked of the cache (``site.remote_media``) on the way, in the background;
a page never waits for a fetch. Where nothing is cached (no cache, or
``WEFT_MEDIA_CACHE_MB=0``), images are links to their originals, as video and audio always
are. docs/decisions/0009-remote-media.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from weft.media.remote_files import cacheable
from weft.social.model import RemoteMedia
from weft.store import remote_media as cache_rows
from weft.store.people import Person
from weft.store.remote_media import CachedMedia, media_host, media_key
from weft.store.statuses import StatusRow

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["RemoteMediaViews", "remote_items", "uncached_views"]


def remote_items(row: StatusRow) -> list[dict[str, Any]]:
    """A post's files that are on another server (``url``, no ``blob``)."""
    return [item for item in row.attachments if isinstance(item.get("url"), str) and "blob" not in item]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return value if type(value) is int else None


def _view(item: dict[str, Any], state: str, kept: CachedMedia | None = None) -> RemoteMedia:
    url = item["url"]
    ready = state == "cached" and kept is not None
    return RemoteMedia(
        url=url, key=media_key(url), state=state, mime=_text(item.get("mime")), alt=_text(item.get("alt")),
        width=kept.width if ready and kept else _number(item.get("width")),
        height=kept.height if ready and kept else _number(item.get("height")),
        blurhash=_text(item.get("blurhash")), preview=_text(item.get("preview")),
        blob=kept.blob if ready and kept else None, thumb=kept.thumb if ready and kept else None)


def _origin(row: StatusRow) -> str | None:
    """The host of a Fediverse post's author (whose domain's policy applies to its files)."""
    if not row.author_did[:8].lower().startswith(("https://", "http://")):
        return None
    return media_host(row.author_did) or None


def uncached_views(rows: Iterable[StatusRow]) -> dict[int, tuple[RemoteMedia, ...]]:
    """The files of ``rows`` where no cache is consulted: images waiting, the rest linked."""
    return {row.row: tuple(_view(item, "waiting" if cacheable(item.get("mime")) else "linked")
                           for item in remote_items(row)) for row in rows}


class RemoteMediaViews:
    """The site's answer for remote files (``site.social.statuses.media``)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    async def _rejected(self, hosts: Iterable[str]) -> set[str]:
        """Which of ``hosts`` (names without ports) server moderation rejects the media of."""
        moderation = self.site.social.moderation
        rejected = set()
        for host in set(hosts):
            policy = await moderation.policy(host)
            if policy is not None and policy.reject_media:
                rejected.add(host)
        return rejected

    async def of_rows(self, conn: AsyncConnection, rows: Sequence[StatusRow]) -> dict[int, tuple[RemoteMedia, ...]]:
        """The files of each post in ``rows``, by post row, as the reader is to see them."""
        items = {row.row: (remote_items(row), _origin(row)) for row in rows}
        urls = {item["url"] for found, _ in items.values() for item in found}
        if not urls:
            return {row.row: () for row in rows}
        kept = await cache_rows.held(conn, urls)
        rejected = await self._rejected([*(media_host(url) for url in urls),
                                         *(origin for _, origin in items.values() if origin is not None)])
        now, wanted = self.site.node.clock(), list[tuple[str, str | None]]()
        caching = self.site.remote_media is not None and self.site.remote_media.settings.enabled
        views: dict[int, tuple[RemoteMedia, ...]] = {}
        for row_id, (found, origin) in items.items():
            shown = []
            for item in found:
                url = item["url"]
                row = kept.get(url)
                if media_host(url) in rejected or origin in rejected:
                    state = "hidden"
                elif not cacheable(item.get("mime")):
                    state = "linked"
                elif row is not None and row.state == "ready":
                    state = "cached"
                elif row is not None and row.state == "failed" and row.retry_at is None:
                    state = "failed"   # refused for good: too large, not an image
                elif row is not None and row.state == "failed" and not row.due(now):
                    state = "waiting"  # failed for now, to be tried again later
                elif not caching:
                    state = "linked"   # no cache here (WEFT_MEDIA_CACHE_MB=0): the original it is
                else:
                    state = "waiting"
                    wanted.append((url, origin))
                shown.append(_view(item, state, row))
            views[row_id] = tuple(shown)
        for url, origin in wanted:
            self._want([url], origin)
        return views

    async def file_of(self, key: str, *, small: bool, timeout: float) -> str | None:
        """The digest of the file kept here for the remote file ``key`` names (its thumbnail if
        ``small``), fetching it now if it is due, waiting up to ``timeout`` seconds; None when
        it is not known, cannot be kept, or its domain's media are rejected."""
        async with self.site.node.db.read() as conn:
            row = await cache_rows.by_key(conn, key)
        if row is None or await self._rejected([row.host, *([row.origin] if row.origin else [])]):
            return None
        if row.state != "ready" and (row.state == "rejected" or row.due(self.site.node.clock())):
            cache = self.site.remote_media
            row = None if cache is None else await cache.ready(row.url, origin=row.origin, timeout=timeout)
        if row is None or row.state != "ready" or row.blob is None:
            return None
        return (row.thumb or row.blob) if small else row.blob

    def want_people(self, people: Iterable[Person]) -> None:
        """Ask for the avatars and headers of Fediverse people shown that are not kept here."""
        for person in people:
            if person.remote is None:
                continue
            wanted = []
            for key, kept in (("avatar", person.avatar_media), ("header", person.header_media)):
                url = person.profile.get(key)
                if kept is None and isinstance(url, str) and url[:8].lower().startswith(("https://", "http://")):
                    wanted.append(url)
            self._want(wanted, person.remote.host)

    def _want(self, urls: list[str], origin: str | None) -> None:
        cache = self.site.remote_media
        if cache is not None and urls:
            cache.want(urls, origin=origin)
