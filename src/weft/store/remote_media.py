"""The remote media cache's rows: which remote file became which blob here, and how fetching it
went. SQL only; weft.media.remote_cache decides, docs/decisions/0009-remote-media.md says why.

A row is keyed by the sha256 of its URL (:func:`media_key`), which is also the file's address
on this server while it waits (``/media/remote/{key}``). States:

- ``waiting``: asked for, not fetched yet (or being fetched, or evicted: fetched again when
  next asked for);
- ``ready``: ``blob`` (and ``thumb``) hold the re-encoded image; ``bytes`` counts against the
  cache's budget, ``fetched_at`` orders eviction (the least recently fetched go first);
- ``failed``: ``error`` says why; ``retry_at`` is when it may be tried again, NULL for never
  (not an image, too large: fetching it again would give the same answer);
- ``rejected``: its domain's media are rejected by server moderation (nothing is kept).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import remote_media
from weft.store.sql import insert_ignoring, values_held

__all__ = ["CachedMedia", "MediaState", "blobs_holding", "by_key", "cached_blobs_page", "cached_bytes", "evict",
           "held", "media_host", "media_key", "oldest_ready", "record_failure", "record_ready", "reject_domain",
           "set_state", "wait_for"]

MediaState = Literal["waiting", "ready", "failed", "rejected"]
_CHUNK: Final = 500


@dataclass(frozen=True)
class CachedMedia:
    """One row: a remote file as the cache holds it."""

    key: str
    url: str
    host: str
    origin: str | None            # the host of the actor whose post or profile named it
    state: MediaState
    blob: str | None
    thumb: str | None
    mime: str | None
    width: int | None
    height: int | None
    bytes: int
    created_at: int
    fetched_at: int | None
    attempts: int
    retry_at: int | None
    error: str | None

    def due(self, now_ms: int) -> bool:
        """Whether fetching it (again) is worth trying now."""
        if self.state == "waiting":
            return True
        return self.state == "failed" and self.retry_at is not None and self.retry_at <= now_ms


def media_key(url: str) -> str:
    """The row key of ``url``: its sha256, in hex (URLs may be longer than an index allows)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def media_host(url: str) -> str:
    """The host name of ``url`` (or of a bare ``host[:port]``), lower-case, without a port:
    what domain blocks are matched on; "" if there is none."""
    try:
        return (urlsplit(url if "://" in url else f"//{url}").hostname or "").lower()
    except ValueError:
        return ""


def _row(found: object) -> CachedMedia:
    return CachedMedia(**found._mapping)  # type: ignore[attr-defined]


async def held(conn: AsyncConnection, urls: Collection[str]) -> dict[str, CachedMedia]:
    """The rows of those of ``urls`` the cache knows, by URL."""
    keys = sorted({media_key(url) for url in urls})
    found: dict[str, CachedMedia] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = await conn.execute(select(remote_media).where(remote_media.c.key.in_(keys[start:start + _CHUNK])))
        found.update((row.url, row) for row in map(_row, rows.all()))
    return found


async def by_key(conn: AsyncConnection, key: str) -> CachedMedia | None:
    found = (await conn.execute(select(remote_media).where(remote_media.c.key == key))).first()
    return None if found is None else _row(found)


async def wait_for(conn: AsyncConnection, url: str, origin: str | None, now_ms: int) -> None:
    """Make the row of ``url`` (waiting), named by an actor of ``origin``, unless it has one."""
    await conn.execute(insert_ignoring(conn, remote_media, "key").values(
        key=media_key(url), url=url, host=media_host(url), origin=origin, state="waiting", bytes=0,
        created_at=now_ms, attempts=0))


async def set_state(conn: AsyncConnection, url: str, state: MediaState, *, error: str | None = None) -> None:
    """``waiting`` again (asked for anew) or ``rejected``: whatever was kept is no longer named."""
    await conn.execute(update(remote_media).where(remote_media.c.key == media_key(url)).values(
        state=state, blob=None, thumb=None, bytes=0, error=error, retry_at=None))


async def record_ready(conn: AsyncConnection, url: str, *, blob: str, thumb: str | None, mime: str,
                       width: int, height: int, size: int, now_ms: int) -> None:
    await conn.execute(update(remote_media).where(remote_media.c.key == media_key(url)).values(
        state="ready", blob=blob, thumb=thumb, mime=mime, width=width, height=height, bytes=size,
        fetched_at=now_ms, error=None, retry_at=None, attempts=remote_media.c.attempts + 1))


async def record_failure(conn: AsyncConnection, url: str, error: str, retry_at: int | None) -> int:
    """Remember a failed fetch; how many attempts the row has now."""
    await conn.execute(update(remote_media).where(remote_media.c.key == media_key(url)).values(
        state="failed", blob=None, thumb=None, bytes=0, error=error[:500], retry_at=retry_at,
        attempts=remote_media.c.attempts + 1))
    found = await by_key(conn, media_key(url))
    return 0 if found is None else found.attempts


async def cached_bytes(conn: AsyncConnection) -> int:
    """What the ready files take, in bytes (blobs and thumbnails)."""
    total = (await conn.execute(select(func.coalesce(func.sum(remote_media.c.bytes), 0))
                                .where(remote_media.c.state == "ready"))).scalar_one()
    return int(total)


async def oldest_ready(conn: AsyncConnection, limit: int) -> list[CachedMedia]:
    """The ready rows fetched longest ago (eviction's candidates), oldest first."""
    rows = await conn.execute(select(remote_media).where(remote_media.c.state == "ready")
                              .order_by(remote_media.c.fetched_at, remote_media.c.key).limit(limit))
    return [_row(row) for row in rows.all()]


async def evict(conn: AsyncConnection, keys: Sequence[str]) -> None:
    """These files are no longer kept: their rows wait again (asked for, they are fetched again)."""
    for start in range(0, len(keys), _CHUNK):
        await conn.execute(update(remote_media).where(remote_media.c.key.in_(keys[start:start + _CHUNK])).values(
            state="waiting", blob=None, thumb=None, bytes=0, error=None, retry_at=None))


def _of_domain(domain: str) -> ColumnElement[bool]:
    """SQL: the file's host, or the host of whose post named it, is ``domain`` or a subdomain
    of it (as domain blocks cover them; hosts are kept lower-case and without a port)."""
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(condition for column in (remote_media.c.host, remote_media.c.origin)
                 for condition in (column == domain, column.like(f"%.{escaped}", escape="\\"))))


async def reject_domain(conn: AsyncConnection, domain: str) -> set[str]:
    """Mark the rows of ``domain`` (and its subdomains) rejected, whether the file is there or
    only its poster (files of a server's posts often live on another host); the blobs they held.
    A scan of the table: blocks are rare, and LIKE '%.domain' reads no index."""
    covered = _of_domain(domain)
    rows = await conn.execute(select(remote_media.c.blob, remote_media.c.thumb).where(covered))
    freed = {digest for row in rows.all() for digest in row if digest is not None}
    await conn.execute(update(remote_media).where(covered).values(
        state="rejected", blob=None, thumb=None, bytes=0, retry_at=None, error=None))
    return freed


async def blobs_holding(conn: AsyncConnection, digests: Sequence[str]) -> set[str]:
    """Which of ``digests`` a cached file holds, as its image or as its thumbnail."""
    return await values_held(conn, [remote_media.c.blob, remote_media.c.thumb], digests)


async def cached_blobs_page(conn: AsyncConnection, after: str, limit: int) -> tuple[list[str], str | None]:
    """The digests cached files hold, for rows keyed past ``after``, ``limit`` rows at a time (for
    the media sweep); and the key to go on from, or None."""
    rows = (await conn.execute(select(remote_media.c.key, remote_media.c.blob, remote_media.c.thumb)
                               .where(remote_media.c.key > after, remote_media.c.blob.is_not(None))
                               .order_by(remote_media.c.key).limit(limit))).all()
    digests = [digest for row in rows for digest in (row.blob, row.thumb) if digest is not None]
    return digests, rows[-1].key if len(rows) == limit else None
