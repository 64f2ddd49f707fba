"""Keeping the blob store to the blobs in use: deleted and expired posts' images leave the disk.

Deletion is a guarantee in weft (decision 0002), and a post's images are part of the post.
Two ways out, both after the transaction that dropped the last reference has committed, so
that a crash in between leaves at worst a file nothing names, never a name without a file:

- :meth:`MediaUpkeep.release`, right after a delete, an expiry or a purge: the upload rows of
  posts now dead go, then every candidate blob that no upload row, no profile of the
  node's own people and no file of the remote media cache (weft.media.remote_cache) holds
  is removed.
- :meth:`MediaUpkeep.sweep`, with the expiry upkeep (so also as a node starts) whenever none
  ran for ``SWEEP_EVERY_S``: the same for every upload row of a dead post, uploads left
  waiting for a post longer than ``WAITING_KEPT_MS``,
  and any blob file nothing names that is older than ``ORPHAN_GRACE_S`` (what a crash
  between a commit and its release left, or an upload cut off after its file was written).

Uploads in this process write a blob and record it under ``lock``, which removals take too,
so a blob cannot be removed between being stored again and being recorded. Another process
storing the same bytes at that very instant is not covered; the grace period covers
processes whose rows come after their files.

Design notes: docs/decisions/0004-media.md (Removal).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Final

from weft.media.blobs import BlobStore
from weft.media.errors import MediaError
from weft.store import blob_refs, carried_blobs, remote_media, uploads
from weft.store.database import Database

__all__ = ["ABANDONED_AFTER_MS", "ABANDONED_ERROR", "ORPHAN_GRACE_S", "SWEEP_EVERY_S", "WAITING_KEPT_MS",
           "MediaUpkeep"]

log = logging.getLogger("weft.media")

# An upload is processed within seconds; one processing longer than this lost its worker
# (the server stopped mid-way). Not "at start, every processing row": a CLI command opening
# the node beside a running server, or another server on the same database, starts too.
ABANDONED_AFTER_MS: Final = 10 * 60 * 1000
ABANDONED_ERROR: Final = "processing the image was cut off (the server stopped); please upload it again"
# Mastodon keeps unattached media a day; weft an hour, since an upload freed by a delete for
# a redraft is a deleted post's image, and an hour is ample to compose a post or a redraft.
WAITING_KEPT_MS: Final = 60 * 60 * 1000
ORPHAN_GRACE_S: Final = 60 * 60
SWEEP_EVERY_S: Final = 30 * 60
_MARKER: Final = ".swept"   # its mtime: when a process last swept this store
_CHUNK: Final = 500
_PAGE: Final = 5000


class MediaUpkeep:
    """The node's blob store and what removes from it. ``clock`` is the node's (ms, for rows);
    ``wall`` reads seconds as file times are kept (for the age of files)."""

    def __init__(self, db: Database, blobs: BlobStore, clock: Callable[[], int],
                 *, wall: Callable[[], float] = time.time) -> None:
        self.db = db
        self.blobs = blobs
        self.clock = clock
        self.wall = wall
        self.lock = asyncio.Lock()

    async def release(self, digests: Collection[str]) -> int:
        """Call after committing what may have dropped the last references to ``digests``
        (images of deleted, expired or purged posts); how many files were removed."""
        if not digests:
            return 0
        async with self.db.write() as conn:
            freed = await uploads.drop_dead_uploads(conn, self.clock(), list(digests))
            freed |= await carried_blobs.drop_dead_carried(conn, self.clock(), list(digests))
        return await self._remove_unused({*digests, *freed})

    async def upkeep(self) -> None:
        """The periodic part (with the expiry purge): uploads whose processing was cut off are
        marked failed, and the sweep runs when none ran for ``SWEEP_EVERY_S``."""
        before = self.clock() - ABANDONED_AFTER_MS
        async with self.db.read() as conn:
            stuck = await uploads.abandoned_exist(conn, before)
        if stuck:
            async with self.db.write() as conn:
                count = await uploads.abandon_uploads(conn, before, ABANDONED_ERROR)
            log.warning("%d upload(s) processing for over %d minutes were marked failed", count,
                        ABANDONED_AFTER_MS // 60_000)
        if self._sweep_due():
            try:
                await self.sweep()
            except OSError:  # a file system refusing must not stop the node opening; next time
                log.exception("the media sweep failed; it runs again at the next upkeep")

    async def sweep(self) -> int:
        """Drop the upload rows of dead posts and those left waiting too long, then remove every
        blob nothing holds (files younger than the grace period stay); how many files went."""
        async with self.db.write() as conn:
            now = self.clock()
            freed = await uploads.drop_dead_uploads(conn, now)
            freed |= await uploads.drop_waiting_uploads(conn, now - WAITING_KEPT_MS)
            freed |= await carried_blobs.drop_dead_carried(conn, now)
        removed = await self._remove_unused(freed)
        used = await self._in_use()
        idle_before = self.wall() - ORPHAN_GRACE_S
        orphans, temporaries = await asyncio.to_thread(self._old_unnamed, used, idle_before)
        for start in range(0, len(orphans), _CHUNK):
            removed += await self._remove_unused(set(orphans[start:start + _CHUNK]))
        removed += await asyncio.to_thread(_unlink_all, temporaries)
        await asyncio.to_thread(self._mark_swept)
        if removed:
            log.info("media sweep removed %d file(s)", removed)
        return removed

    # -- internals ---------------------------------------------------------------------

    async def _remove_unused(self, digests: set[str]) -> int:
        """Remove those of ``digests`` nothing holds, checked under the lock that uploads take
        between storing a blob and recording it."""
        if not digests:
            return 0
        async with self.lock:
            async with self.db.read() as conn:
                unused = digests - await uploads.uploads_holding(conn, list(digests))
                if unused:  # what an imported archive brought (weft.store.carried_blobs)
                    unused -= await carried_blobs.carried_holding(conn, list(unused))
                if unused:
                    unused -= await blob_refs.profile_blobs(conn)
                if unused:
                    unused -= await remote_media.blobs_holding(conn, list(unused))
            return await asyncio.to_thread(self._delete_all, sorted(unused))

    def _delete_all(self, digests: list[str]) -> int:
        removed = 0
        for digest in digests:
            try:
                removed += self.blobs.delete(digest)
            except MediaError:
                continue  # not a digest: never a file of this store
            except OSError as exc:
                log.warning("cannot remove media file %s: %s", digest, exc)
        return removed

    async def _in_use(self) -> _Digests:
        used = _Digests()
        after: int | None = 0
        while after is not None:
            async with self.db.read() as conn:
                page, after = await uploads.upload_blobs_page(conn, after, _PAGE)
            used.update(page)
        async with self.db.read() as conn:
            used.update(await blob_refs.profile_blobs(conn))
        carried: tuple[int, str] | None = (0, "")
        while carried is not None:
            async with self.db.read() as conn:
                page, carried = await carried_blobs.carried_page(conn, carried, _PAGE)
            used.update(page)
        key: str | None = ""
        while key is not None:
            async with self.db.read() as conn:
                cached, key = await remote_media.cached_blobs_page(conn, key, _PAGE)
            used.update(cached)
        used.seal()
        return used

    def _old_unnamed(self, used: _Digests, idle_before: float) -> tuple[list[str], list[Path]]:
        orphans: list[str] = []
        temporaries: list[Path] = []
        for found in self.blobs.scan():
            if found.mtime >= idle_before:
                continue
            if found.digest is None:
                temporaries.append(found.path)
            elif found.digest not in used:
                orphans.append(found.digest)
        return orphans, temporaries

    def _sweep_due(self) -> bool:
        if not self.blobs.root.is_dir():
            return False  # nothing was ever stored: nothing to sweep
        try:
            return self.wall() - (self.blobs.root / _MARKER).stat().st_mtime >= SWEEP_EVERY_S
        except FileNotFoundError:
            return True

    def _mark_swept(self) -> None:
        if self.blobs.root.is_dir():
            marker = self.blobs.root / _MARKER
            marker.touch()
            os.utime(marker, (self.wall(), self.wall()))


def _unlink_all(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot remove %s: %s", path, exc)
    return removed


class _Digests:
    """A set of digests kept as sorted 64-bit prefixes in 256 buckets: 8 bytes a digest, so a
    store of millions of blobs is compared without millions of Python strings. Two digests
    sharing a prefix only keep an orphan (the safe way to be wrong), with odds of 2^-64."""

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(256)]

    def update(self, digests: Collection[str]) -> None:
        for digest in digests:
            try:
                value = int(digest[:16], 16)
            except ValueError:
                continue  # not a digest: names no file
            self._buckets[value >> 56].append(value)

    def seal(self) -> None:
        self._buckets = [array("Q", sorted(bucket)) for bucket in self._buckets]

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str):
            return False
        value = int(digest[:16], 16)
        bucket = self._buckets[value >> 56]
        index = bisect_left(bucket, value)
        return index < len(bucket) and bucket[index] == value
