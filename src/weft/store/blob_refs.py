"""Which blobs an entry's content names, and which the node's own profiles show. SQL only.

A post names its images in ``attachments`` (``blob`` and ``thumb``, sha256 digests); a
profile names an avatar or a header kept here by its address, ``…/media/{digest}``. Upload
rows (weft.store.uploads) say which blobs a post of this node uses; profile images have no
upload row, so the current profiles of the node's own identities are read for them. The
naming rule itself is weft.core.blob_names, which archives share.

These are the candidates weft.media.upkeep considers when content goes (a delete, an
expiry, a purge): naming more than is released costs a lookup, never a file, since a blob
leaves only once nothing holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.blob_names import blobs_named
from weft.store.carried_blobs import carried_by_identity
from weft.store.schema import accounts, entries, identities, media, profiles

__all__ = ["blobs_named", "named_by_entries", "named_by_identity", "named_by_rows", "profile_blobs"]

_CHUNK = 500


def _named(contents: Iterable[bytes | None]) -> set[str]:
    found: set[str] = set()
    for raw in contents:
        # Cheap test first: most content (likes, follows, text-only posts) names no blob.
        if raw and (b'"attachments"' in raw or b"/media/" in raw):
            try:
                found |= blobs_named(orjson.loads(raw))
            except orjson.JSONDecodeError:
                continue
    return found


async def named_by_entries(conn: AsyncConnection, entry_ids: Sequence[bytes]) -> set[str]:
    """Blobs named by the content of these entries (by entry id), while it is still held."""
    wanted = sorted(set(entry_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.execute(select(entries.c.content).where(
            entries.c.entry_id.in_(wanted[start:start + _CHUNK]), entries.c.content.is_not(None)))
        found |= _named(content for (content,) in rows.all())
    return found


async def named_by_rows(conn: AsyncConnection, row_ids: Sequence[int]) -> set[str]:
    """Blobs named by the content of these entries (by row id), while it is still held."""
    wanted = sorted(set(row_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.execute(select(entries.c.content).where(
            entries.c.id.in_(wanted[start:start + _CHUNK]), entries.c.content.is_not(None)))
        found |= _named(content for (content,) in rows.all())
    return found


async def named_by_identity(conn: AsyncConnection, identity: int) -> set[str]:
    """Blobs an identity's data holds here, read before a purge of it: a hosted account's
    uploads, what its imported archive brought, and its current profile's images. Other
    identities' posts name no blob of this node that such a row does not hold already."""
    found = await carried_by_identity(conn, identity)
    rows = await conn.execute(select(media.c.blob, media.c.thumb).join(accounts, accounts.c.id == media.c.account)
                              .where(accounts.c.identity == identity))
    found.update(digest for row in rows.all() for digest in row if digest is not None)
    profile = await conn.execute(select(entries.c.content).join(profiles, profiles.c.entry == entries.c.id)
                                 .where(profiles.c.identity == identity))
    return found | _named(content for (content,) in profile.all())


async def profile_blobs(conn: AsyncConnection) -> set[str]:
    """Blobs shown by the current profiles of this node's own identities (hosted accounts and
    the node's people): one row per identity, so this reads as many rows as the node has people."""
    rows = await conn.execute(
        select(entries.c.content).select_from(profiles)
        .join(identities, identities.c.id == profiles.c.identity)
        .join(entries, entries.c.id == profiles.c.entry)
        .where(identities.c.local.is_(True), entries.c.content.is_not(None)))
    return _named(content for (content,) in rows.all())
