"""Image uploads of hosted accounts, processed in the background (Mastodon's v2 media).

An upload is answered at once with its id while a single worker thread re-encodes it
(weft.media.process_image): decoding a large image takes seconds and hundreds of MB, so
one at a time, and at most ``MAX_WAITING`` waiting; beyond that the upload is refused
with "try again" rather than queued without bound.

The upload's bytes are held in memory only, never written as they came (they may carry a
photo's GPS position): an upload whose processing a crash cut off cannot be taken up again,
so the node's media upkeep marks it failed (weft.media.upkeep.ABANDONED_AFTER_MS) and the
client is told to upload it again. Uploads no post carries are kept an hour (``WAITING_KEPT_MS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

from weft.errors import NotFound, UsageError
from weft.media import MediaError, process_image, validate_description
from weft.ratelimit import RateLimited
from weft.social.model import Upload
from weft.store import uploads
from weft.store.uploads import UploadRow

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["MAX_UPLOAD_BYTES", "Uploads"]

MAX_UPLOAD_BYTES: Final = 16 * 1024 * 1024
MAX_WAITING: Final = 8


def _upload(row: UploadRow) -> Upload:
    return Upload(row.id, row.state, row.blob, row.thumb, row.mime, row.description, row.meta, row.blurhash,
                  row.error)


class Uploads:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.node = site.node
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: dict[int, asyncio.Event] = {}
        self._inline = 0   # profile images being processed (they wait for their answer)

    async def upload(self, account: Account, data: bytes, *, description: str | None = None) -> Upload:
        """Store the upload's row and start processing it; the answer comes before the result."""
        description = validate_description(description)
        if not data:
            raise MediaError("the file is empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise MediaError(f"the file is too large: at most {MAX_UPLOAD_BYTES:,} bytes are accepted")
        if len(self._tasks) >= MAX_WAITING:
            raise RateLimited(5)
        async with self.node.db.write() as conn:
            upload_id = await uploads.insert_upload(conn, account.id, description, self.node.clock())
        self._done[upload_id] = asyncio.Event()
        task = asyncio.create_task(self._process(upload_id, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await self.get(account, upload_id)

    def _worker(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weft-media")
        return self._pool

    async def profile_image(self, data: bytes, *, max_side: int) -> str:
        """Process an avatar or a header now and keep it; its blob id. It takes its turn on the
        one worker with the uploads (and counts towards ``MAX_WAITING``); there is no upload
        row, since the image belongs to the profile entry that names it."""
        if not data:
            raise MediaError("the file is empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise MediaError(f"the file is too large: at most {MAX_UPLOAD_BYTES:,} bytes are accepted")
        if len(self._tasks) + self._inline >= MAX_WAITING:
            raise RateLimited(5)
        self._inline += 1
        try:
            loop = asyncio.get_running_loop()
            image = await loop.run_in_executor(self._worker(), functools.partial(process_image, data,
                                                                                 max_side=max_side))
            return await asyncio.to_thread(self.node.media.blobs.put, image.data)
        finally:
            self._inline -= 1

    async def _process(self, upload_id: int, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            image = await loop.run_in_executor(self._worker(), process_image, data)
            blobs = self.node.media.blobs
            # Stored and recorded under the media lock: the same bytes may be a blob that a
            # delete is releasing right now, which must not go between the put and the record.
            async with self.node.media.lock:
                blob = await asyncio.to_thread(blobs.put, image.data)
                thumb = await asyncio.to_thread(blobs.put, image.thumb)
                async with self.node.db.write() as conn:
                    # False when the upkeep gave it up meanwhile: the files stay for the sweep.
                    await uploads.finish_upload(conn, upload_id, blob=blob, thumb=thumb, mime=image.mime,
                                                meta=dict(image.meta()), blurhash=image.blurhash)
        except MediaError as exc:
            async with self.node.db.write() as conn:
                await uploads.finish_upload(conn, upload_id, error=str(exc))
        finally:
            event = self._done.pop(upload_id, None)
            if event is not None:
                event.set()

    async def wait(self, account: Account, upload_id: int, *, seconds: float) -> Upload:
        """The upload once processed, or as it is after ``seconds``."""
        event = self._done.get(upload_id)
        if event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        return await self.get(account, upload_id)

    async def get(self, account: Account, upload_id: int) -> Upload:
        async with self.node.db.read() as conn:
            found = (await uploads.upload_rows(conn, account.id, [upload_id])).get(upload_id)
        if found is None:
            raise NotFound(f"no upload {upload_id}")
        return _upload(found)

    async def describe(self, account: Account, upload_id: int, description: str | None) -> Upload:
        """Change the alt text, until a post carries the image (then it is signed with the post)."""
        current = await self.get(account, upload_id)
        async with self.node.db.read() as conn:
            row = (await uploads.upload_rows(conn, account.id, [upload_id]))[upload_id]
        if row.post is not None:
            raise UsageError("the image belongs to a post now: edit the post instead")
        async with self.node.db.write() as conn:
            await uploads.update_upload(conn, current.id, description=validate_description(description))
        return await self.get(account, upload_id)

    async def close(self) -> None:
        """Finish the uploads in progress and stop the worker."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
