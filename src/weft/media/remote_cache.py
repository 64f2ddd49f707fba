"""The remote media cache: Fediverse images fetched by this server and served from here.

A Fediverse post names its images by URL, and so does a remote person's profile (avatar,
header). Showing those URLs would send every reader's browser to the other server, telling
it who reads what, and the pictures would vanish with it. So the server fetches each image
itself, once, re-encodes it as uploads are (weft.media.process_image: EXIF and every other
piece of metadata left behind, a thumbnail made), keeps it in the blob store and shows
``/media/{digest}``. docs/decisions/0009-remote-media.md has the reasons; the rows are
weft.store.remote_media.

- **When.** As a post or a profile arrives (the inbound mapping calls :meth:`want`), and
  when a page or the client API shows one whose files are not kept (lazily, for posts that
  came before the cache, evicted files and failures worth retrying). Fetching happens in
  background tasks, at most ``fetches`` at once and ``max_waiting`` waiting; a reader is
  never made to wait, except through ``/media/remote/{key}`` (the client API's address of
  a file not kept yet), which waits a little for it (:meth:`ready`).
- **Limits.** Files over ``max_file_bytes`` are not read past that; whatever is not an
  image decodable by weft.media is refused; the fetch itself (weft.federation's client,
  handed in as ``fetch``) keeps to public addresses, time and redirect limits.
- **Failures are remembered**: one that may pass (the network, a 5xx) is tried again after
  ``first_retry_ms``, doubling, at most ``max_attempts`` times; one that would give the same
  answer (too large, not an image, 404) never again. Asking for it meanwhile fetches nothing.
- **Budget.** Past ``budget_bytes`` of kept files, the least recently fetched are evicted
  (their rows wait again, their blobs are removed unless something else holds them, through
  :meth:`MediaUpkeep.release <weft.media.upkeep.MediaUpkeep.release>`). An evicted file asked
  for again is fetched again.
- **Moderation.** A domain whose media server moderation rejects (``reject media``, or a
  suspension) is never fetched from (``rejected`` is asked before and after each fetch);
  blocking it later drops what was kept (weft.social.moderation).

The settings, the files taken and the fetch's error are in weft.media.remote_files.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from weft.media.errors import MediaError
from weft.media.images import process_image
from weft.media.remote_files import RemoteFetchError, RemoteMediaSettings
from weft.media.upkeep import MediaUpkeep
from weft.store import remote_media as rows
from weft.store.database import Database
from weft.store.remote_media import CachedMedia, media_host

__all__ = ["FetchImage", "MediaRejected", "RemoteMediaCache"]

log = logging.getLogger("weft.media.remote")

FetchImage = Callable[[str, int], Awaitable[bytes]]
"""``fetch(url, max_bytes)``: the body of an image at ``url``; :class:`RemoteFetchError` otherwise."""

MediaRejected = Callable[[str], Awaitable[bool]]
"""``rejected(host)``: whether server moderation rejects that host's media."""

# A file found kept, refused for good or rejected is not looked up again for this long when
# pages keep asking for it (they ask whenever they show it not kept); at most this many remembered.
_QUIET_MS: Final = 5 * 60 * 1000
_QUIET_MAX: Final = 10_000


async def _nothing_rejected(_host: str) -> bool:
    return False


class RemoteMediaCache:
    """One process's fetcher of remote images into the node's blob store (``site.remote_media``)."""

    def __init__(self, db: Database, upkeep: MediaUpkeep, fetch: FetchImage, *, clock: Callable[[], int],
                 rejected: MediaRejected = _nothing_rejected,
                 settings: RemoteMediaSettings | None = None) -> None:
        self.db = db
        self.upkeep = upkeep
        self.fetch = fetch
        self.clock = clock
        self.rejected = rejected
        self.settings = settings or RemoteMediaSettings()
        self._slots = asyncio.Semaphore(self.settings.fetches)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._evicting = asyncio.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._quiet: OrderedDict[str, int] = OrderedDict()   # url -> until when it is not looked up

    def want(self, urls: Iterable[str], *, origin: str | None = None) -> None:
        """Fetch these files in the background unless they are kept, being fetched, or failed
        for good; beyond ``max_waiting`` in flight, the rest wait for the next time they are asked.
        ``origin``: the host of the actor whose post or profile names them (its domain's
        policy applies to them, wherever they are)."""
        now = self.clock()
        for url in urls:
            if self._quiet.get(url, 0) <= now:
                self._start(url, origin)

    async def ready(self, url: str, *, origin: str | None, timeout: float) -> CachedMedia | None:
        """The row of ``url`` once fetching it ended (if it is due), or as it is after ``timeout``
        seconds: for a client waiting for the file now."""
        task = self._start(url, origin)
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout)
        async with self.db.read() as conn:
            return (await rows.held(conn, [url])).get(url)

    async def settle(self) -> None:
        """Wait until nothing is being fetched (what those fetches asked for included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        """Stop fetching: what is in flight is cancelled (its rows wait to be asked again)."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- internals ---------------------------------------------------------------------

    def _start(self, url: str, origin: str | None) -> asyncio.Task[None] | None:
        """The task caching ``url``: the one in flight, else a new one (None past ``max_waiting``,
        or when nothing is to be kept)."""
        task = self._tasks.get(url)
        if task is None and self.settings.enabled and len(self._tasks) < self.settings.max_waiting:
            task = asyncio.create_task(self._cache(url, media_host(origin or "") or None),
                                       name=f"weft media {url[:80]}")
            self._tasks[url] = task
            task.add_done_callback(functools.partial(self._finished, url))
        return task

    def _finished(self, url: str, task: asyncio.Task[None]) -> None:
        self._tasks.pop(url, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("caching %s failed", url[:200], exc_info=task.exception())

    def _hush(self, url: str) -> None:
        self._quiet[url] = self.clock() + _QUIET_MS
        self._quiet.move_to_end(url)
        while len(self._quiet) > _QUIET_MAX:
            self._quiet.popitem(last=False)

    def _worker(self) -> ThreadPoolExecutor:
        # One thread: decoding a large image takes seconds and hundreds of MB.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weft-remote-media")
        return self._pool

    async def _cache(self, url: str, origin: str | None) -> None:
        async with self._slots:
            async with self.db.read() as conn:
                row = (await rows.held(conn, [url])).get(url)
            if row is not None and row.state != "rejected" and not row.due(self.clock()):
                self._hush(url)   # kept, or failed for good / not yet due again: nothing to do
                return
            host = media_host(url)
            if await self._refused(url, host, origin, row):
                return
            async with self.db.write() as conn:
                await rows.wait_for(conn, url, origin, self.clock())
                if row is not None and row.state == "rejected":   # allowed again since
                    await rows.set_state(conn, url, "waiting")
            try:
                data = await self.fetch(url, self.settings.max_file_bytes)
                image = await asyncio.get_running_loop().run_in_executor(
                    self._worker(), functools.partial(process_image, data, max_bytes=self.settings.max_file_bytes))
            except RemoteFetchError as error:
                await self._failed(url, f"{error.kind}: {error}", retryable=error.retryable)
                return
            except MediaError as error:   # not an image weft takes: the same answer every time
                await self._failed(url, str(error), retryable=False)
                return
            size = len(image.data) + len(image.thumb)
            if size > self.settings.budget_bytes:
                await self._failed(url, "the file is larger than the whole media cache", retryable=False)
                return
            if await self._refused(url, host, origin, None):   # a block made while it was being fetched
                return
            blobs = self.upkeep.blobs
            # Stored and recorded under the media lock, which removals take: the same bytes
            # may be a blob being released right now, which must not go between the two.
            async with self.upkeep.lock:
                blob = await asyncio.to_thread(blobs.put, image.data)
                thumb = await asyncio.to_thread(blobs.put, image.thumb)
                async with self.db.write() as conn:
                    await rows.wait_for(conn, url, origin, self.clock())   # evicted or dropped meanwhile
                    await rows.record_ready(conn, url, blob=blob, thumb=thumb, mime=image.mime, width=image.width,
                                            height=image.height, size=size, now_ms=self.clock())
        await self._evict()

    async def _refused(self, url: str, host: str, origin: str | None, row: CachedMedia | None) -> bool:
        """Record and say so when moderation rejects the media of ``host`` or of ``origin`` (or
        there is no host). Not hushed: unblocking lets it be fetched when next asked for."""
        if host and not await self.rejected(host) and not (origin and await self.rejected(origin)):
            return False
        if row is not None and row.state == "rejected":
            return True   # recorded already
        async with self.db.write() as conn:
            await rows.wait_for(conn, url, origin, self.clock())
            if host:
                await rows.set_state(conn, url, "rejected")
        if not host:
            await self._failed(url, "the address has no host", retryable=False)
        return True

    async def _failed(self, url: str, error: str, *, retryable: bool) -> None:
        async with self.db.write() as conn:
            held = (await rows.held(conn, [url])).get(url)
            attempts = (held.attempts if held is not None else 0) + 1
            retry_at = None
            if retryable and attempts < self.settings.max_attempts:
                retry_at = self.clock() + self.settings.first_retry_ms * 2 ** (attempts - 1)
            await rows.record_failure(conn, url, error, retry_at)
        log.info("not caching %s: %s", url[:200], error)

    async def _evict(self) -> int:
        """Evict the least recently fetched files until the kept ones fit the budget; how many went."""
        evicted = 0
        async with self._evicting:
            while True:
                async with self.db.write() as conn:
                    excess = await rows.cached_bytes(conn) - self.settings.budget_bytes
                    if excess <= 0:
                        break
                    victims: list[CachedMedia] = []
                    for row in await rows.oldest_ready(conn, 50):
                        if excess <= 0:
                            break
                        victims.append(row)
                        excess -= row.bytes
                    if not victims:
                        break
                    await rows.evict(conn, [row.key for row in victims])
                for row in victims:   # asked for again, they are fetched again
                    self._quiet.pop(row.url, None)
                freed = {digest for row in victims for digest in (row.blob, row.thumb) if digest is not None}
                await self.upkeep.release(freed)
                evicted += len(victims)
        if evicted:
            log.info("the media cache evicted %d file(s) to stay within %d bytes", evicted,
                     self.settings.budget_bytes)
        return evicted
