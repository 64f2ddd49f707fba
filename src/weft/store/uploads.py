"""Uploaded media of hosted accounts: processing state, the blobs made, alt text. SQL only.

An upload is private to its account until a post names its blob; the post's attachment
then carries the blob id, type, size, alt text and blurhash, signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import media

__all__ = ["UploadRow", "attach_uploads", "detach_uploads", "finish_upload", "insert_upload", "update_upload",
           "upload_rows"]


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
                        error: str | None = None) -> None:
    """Record the outcome of processing: the blobs made, or why it failed."""
    await conn.execute(update(media).where(media.c.id == upload).values(
        state="failed" if error else "ready", blob=blob, thumb=thumb, mime=mime,
        meta=orjson.dumps(meta) if meta is not None else None, blurhash=blurhash, error=error))


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


async def detach_uploads(conn: AsyncConnection, post: int) -> None:
    """Free the uploads of a deleted post, so that a redraft of it may carry them again."""
    await conn.execute(update(media).where(media.c.post == post).values(post=None))
