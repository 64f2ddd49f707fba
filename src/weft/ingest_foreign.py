"""The foreign half of ingest's writer: entries the federation face made of activities.

Checked like signed entries where the rules are the same (content matches its hash and
is valid; the author is not refused here; deletes and edits count only from the target's
author, in the folds), and unlike them where there is no signature: trust was settled by
the face (an HTTP signature or a fetch from the origin), one origin is held once, and
``seq``/``prev`` are given here, in arrival order (docs/protocol/foreign-entries.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.entry import Reason
from weft.core.foreign import (
    ForeignEntry,
    check_foreign_content,
    check_foreign_time,
    decode_foreign,
)
from weft.errors import EntryRejected
from weft.store import entries as entry_store
from weft.store import foreign as foreign_store
from weft.store import identities as identity_store
from weft.store.sql import select_in
from weft.store.views import Folding, fold

__all__ = ["CheckedForeign", "ForeignOffer", "check_foreign", "write_foreign"]


@dataclass(frozen=True)
class ForeignOffer:
    """A foreign header and its content (foreign entries always come with content)."""

    header: bytes
    content: bytes


@dataclass(frozen=True)
class CheckedForeign:
    entry: ForeignEntry
    content: bytes
    parsed: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    entry_id: bytes | None
    reason: str
    message: str


def check_foreign(offers: Sequence[ForeignOffer], now_ms: int) -> list[CheckedForeign | Refused]:
    """The order-independent checks: a few microseconds each (no signature), so done inline."""
    checked: list[CheckedForeign | Refused] = []
    for offer in offers:
        entry: ForeignEntry | None = None
        try:
            entry = decode_foreign(offer.header)
            check_foreign_time(entry, now_ms)
            checked.append(CheckedForeign(entry, offer.content, check_foreign_content(entry, offer.content)))
        except EntryRejected as exc:
            checked.append(Refused(entry.id if entry else None, exc.code, str(exc)))
    return checked


@dataclass(frozen=True)
class Written:
    """One offer's fate: stored, duplicate (origin or id held), or refused."""

    status: Literal["stored", "duplicate", "rejected"]
    entry_id: bytes | None
    reason: str | None = None
    message: str | None = None


async def write_foreign(conn: AsyncConnection, checked: list[CheckedForeign | Refused], now_ms: int,
                        blocked: set[int], local_ids: set[int]) -> tuple[list[Written], bool]:
    """Store and fold the checked offers in the caller's transaction; (outcomes in order,
    whether content was removed)."""
    results: list[Written | None] = [Written("rejected", item.entry_id, item.reason, item.message)
                                     if isinstance(item, Refused) else None for item in checked]
    good = [(i, item) for i, item in enumerate(checked) if isinstance(item, CheckedForeign)]
    if not good:
        return [r for r in results if r is not None], False
    held_origins = await foreign_store.entries_of_origins(conn, {item.entry.origin for _, item in good})
    held_ids = await entry_store.entries_by_ids(conn, [item.entry.id for _, item in good])
    authors = await identity_store.ensure_identities(conn, {item.entry.author for _, item in good})
    deleted: dict[bytes, set[int]] = {}   # entry id -> who deleted it (only its own author's counts)
    for target, who in await select_in(conn, "SELECT target, author FROM deletions WHERE target {in}",
                                       [item.entry.id for _, item in good]):
        deleted.setdefault(bytes(target), set()).add(who)
    heads = await entry_store.device_heads(conn, {item.entry.device for _, item in good}, lock=True)
    missing = {item.entry.device: authors[item.entry.author] for _, item in good if item.entry.device not in heads}
    heads.update(await entry_store.insert_devices(conn, missing))

    rows: list[dict[str, Any]] = []
    folding: list[tuple[int, CheckedForeign, int]] = []
    origins: list[tuple[str, int]] = []       # (origin, index in rows)
    seen_origins: set[str] = set()
    touched: dict[int, entry_store.DeviceHead] = {}
    for index, item in good:
        entry, author = item.entry, authors[item.entry.author]
        if entry.origin in held_origins or entry.origin in seen_origins or entry.id in held_ids:
            results[index] = Written("duplicate", entry.id)
            continue
        if author in blocked:
            results[index] = Written("rejected", entry.id, Reason.BLOCKED.value,
                                     f"{entry.describe()}: {entry.author} is blocked here")
            continue
        head = heads[entry.device]
        gone = (entry.expires is not None and entry.expires <= now_ms) or author in deleted.get(entry.id, ())
        position = len(rows)
        rows.append({"entry_id": entry.id, "device": head.id, "seq": head.head_seq + 1, "author": author,
                     "ts": entry.ts, "expires": entry.expires, "header": entry.raw,
                     "content": None if gone else item.content})
        if not gone:
            folding.append((position, item, author))
        origins.append((entry.origin, position))
        seen_origins.add(entry.origin)
        head.head_seq, head.head_id = head.head_seq + 1, entry.id
        touched[head.id] = head
        results[index] = Written("stored", entry.id)
    row_ids = await entry_store.insert_entries(conn, rows)
    await foreign_store.record_origins(conn, [(origin, row_ids[position]) for origin, position in origins])
    folded = await fold(conn, [Folding(row_ids[position], item.entry, author, item.parsed)
                               for position, item, author in folding], local_ids)
    await entry_store.update_heads(conn, list(touched.values()))
    return [r for r in results if r is not None], folded.content_removed
