"""Uploaded media of hosted accounts: processing state, the blobs made, alt text. SQL only.

An upload is private to its account until a post names its blob; the post's attachment
then carries the blob id, type, size, alt text and blurhash, signed.

Upload rows are also how the node knows which blobs are in use (weft.media.upkeep): a row
holds its blob and thumbnail while it waits for a post (``post`` NULL), or while its post
lives. Rows of deleted, expired or purged posts are dropped, and rows left waiting longer
than a while are too. ``created_at`` is when the row began to wait: its upload, or the
delete that freed it for a redraft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.blob_refs import blobs_named
from weft.store.schema import accounts, entries, media, posts
from weft.store.sql import values_held

__all__ = ["UploadRow", "abandon_uploads", "abandoned_exist", "attach_uploads", "detach_uploads", "drop_dead_uploads",
           "drop_waiting_uploads", "finish_upload", "insert_upload", "update_upload", "upload_blobs_page",
           "upload_rows", "uploads_by_blob", "uploads_holding"]

_CHUNK = 500  # values per IN (...): well under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class UploadRow:
    id: int
    account: int
    state: str                 # processing | ready | failed
    blob: str | None
    thumb: str | None
    mime: str | None
    description: str | None
    meta: dict[str, Any]
    blurhash: str | None
    error: str | None
    created_at: int
    post: int | None


def _row(row: Any) -> UploadRow:
    return UploadRow(row.id, row.account, row.state, row.blob, row.thumb, row.mime, row.description,
                     orjson.loads(row.meta) if row.meta else {}, row.blurhash, row.error, row.created_at, row.post)


async def insert_upload(conn: AsyncConnection, account: int, description: str | None, now: int) -> int:
    result = await conn.execute(media.insert().values(account=account, state="processing",
                                                      description=description, created_at=now))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def finish_upload(conn: AsyncConnection, upload: int, *, blob: str | None = None, thumb: str | None = None,
                        mime: str | None = None, meta: dict[str, Any] | None = None, blurhash: str | None = None,
                        error: str | None = None) -> bool:
    """Record the outcome of processing: the blobs made, or why it failed. False if the upload
    is no longer being processed (given up as abandoned, or dropped): the result comes too late."""
    result = await conn.execute(update(media).where(media.c.id == upload, media.c.state == "processing").values(
        state="failed" if error else "ready", blob=blob, thumb=thumb, mime=mime,
        meta=orjson.dumps(meta) if meta is not None else None, blurhash=blurhash, error=error))
    return bool(result.rowcount)


async def upload_rows(conn: AsyncConnection, account: int, ids: Sequence[int]) -> dict[int, UploadRow]:
    """The account's uploads among ``ids`` (others' are not found)."""
    if not ids:
        return {}
    rows = await conn.execute(select(media).where(media.c.account == account, media.c.id.in_(list(ids))))
    return {row.id: _row(row) for row in rows.all()}


async def uploads_by_blob(conn: AsyncConnection, blobs: Sequence[str]) -> dict[str, UploadRow]:
    """The upload that made each blob (the first, if the same bytes were uploaded twice)."""
    if not blobs:
        return {}
    rows = await conn.execute(select(media).where(media.c.blob.in_(sorted(set(blobs)))).order_by(media.c.id.desc()))
    return {row.blob: _row(row) for row in rows.all()}


async def update_upload(conn: AsyncConnection, upload: int, *, description: str | None) -> None:
    await conn.execute(update(media).where(media.c.id == upload).values(description=description))


async def attach_uploads(conn: AsyncConnection, ids: Sequence[int], post: int) -> None:
    await conn.execute(update(media).where(media.c.id.in_(list(ids))).values(post=post))


async def detach_uploads(conn: AsyncConnection, post: int, now: int) -> list[int]:
    """Free the uploads of a post about to be deleted, so that a redraft of it may carry them
    again; they wait from ``now`` like a new upload. Their ids (to attach back if the delete fails)."""
    rows = await conn.execute(select(media.c.id).where(media.c.post == post))
    ids = [upload_id for (upload_id,) in rows.all()]
    if ids:
        await conn.execute(update(media).where(media.c.id.in_(ids)).values(post=None, created_at=now))
    return ids


def _dead(now: int) -> Any:
    """Attached to a post that is gone, deleted or past its expiry."""
    live = exists().where(posts.c.entry == media.c.post, posts.c.deleted == false(),
                          or_(posts.c.expires.is_(None), posts.c.expires > now))
    return and_(media.c.post.is_not(None), ~live)


async def _drop(conn: AsyncConnection, condition: Any) -> set[str]:
    rows = await conn.execute(delete(media).where(condition).returning(media.c.blob, media.c.thumb))
    return {digest for row in rows.all() for digest in row if digest is not None}


async def drop_dead_uploads(conn: AsyncConnection, now: int, blobs: Sequence[str] | None = None) -> set[str]:
    """Drop the uploads of posts deleted, expired or purged (among those of ``blobs``, or all of
    them); the digests they held, for weft.media.upkeep to release once this commits."""
    if blobs is None:
        return await _drop(conn, _dead(now))
    wanted = sorted(set(blobs))
    freed: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        freed |= await _drop(conn, and_(media.c.blob.in_(wanted[start:start + _CHUNK]), _dead(now)))
    return freed


async def drop_waiting_uploads(conn: AsyncConnection, before: int) -> set[str]:
    """Drop uploads no post has carried since before ``before`` (never posted, or freed by a
    delete and not redrafted) and processed or failed; the digests they held.

    A post is published before its uploads are attached to it (another transaction): if the
    process died in between, the row waits although a live post shows its image. So a row is
    first looked for in its account's live posts made since it began waiting (a few rows, by
    ix_posts_author_ts), and attached to the one naming its blob instead of dropped.
    """
    waiting = and_(media.c.post.is_(None), media.c.state != "processing", media.c.created_at < before)
    rows = (await conn.execute(select(media.c.id, media.c.blob, media.c.created_at, accounts.c.identity)
                               .join(accounts, accounts.c.id == media.c.account).where(waiting))).all()
    for row in rows:
        if row.blob is None:
            continue
        found = await conn.execute(
            select(posts.c.entry, entries.c.content).join(entries, entries.c.id == posts.c.entry)
            .where(posts.c.author == row.identity, posts.c.ts >= row.created_at, posts.c.deleted == false()))
        post = next((entry for entry, content in found.all()
                     if content and row.blob in blobs_named(orjson.loads(content))), None)
        if post is not None:
            await conn.execute(update(media).where(media.c.id == row.id).values(post=post))
    return await _drop(conn, waiting)


def _stuck(before: int) -> Any:
    # Processing rows have no blob yet: "blob IS NULL" lets both databases use ix_media_blob,
    # so that this, asked every half minute, reads the few rows without a blob, not the table.
    return and_(media.c.blob.is_(None), media.c.state == "processing", media.c.created_at < before)


async def abandoned_exist(conn: AsyncConnection, before: int) -> bool:
    """Whether any upload began processing before ``before`` and is processing still."""
    return (await conn.execute(select(media.c.id).where(_stuck(before)).limit(1))).first() is not None


async def abandon_uploads(conn: AsyncConnection, before: int, error: str) -> int:
    """Mark failed the uploads still processing that began before ``before``; how many."""
    result = await conn.execute(update(media).where(_stuck(before)).values(state="failed", error=error))
    return int(result.rowcount)


async def uploads_holding(conn: AsyncConnection, digests: Sequence[str]) -> set[str]:
    """Which of ``digests`` an upload row holds, as its image or as its thumbnail."""
    return await values_held(conn, [media.c.blob, media.c.thumb], digests)


async def upload_blobs_page(conn: AsyncConnection, after: int, limit: int) -> tuple[list[str], int | None]:
    """The digests held by upload rows past id ``after``, ``limit`` rows at a time (for the
    sweep, which must not load a million rows at once); and the id to go on from, or None."""
    rows = (await conn.execute(select(media.c.id, media.c.blob, media.c.thumb).where(media.c.id > after)
                               .order_by(media.c.id).limit(limit))).all()
    digests = [digest for row in rows for digest in (row.blob, row.thumb) if digest is not None]
    return digests, rows[-1].id if len(rows) == limit else None
