"""Export an identity's whole history to one file, and import such a file into a node.

The format and its checks are pure (``weft.core.archive``); this module reads and
writes files and the database. Import is all-or-nothing: the whole file is
verified before anything is written (see docs/protocol/archive.md), then the
images it carries go into the blob store (``weft.archive_media``), the operations
and entries through ``node.ingest`` like anything a peer sends, and the images are
recorded as held by the posts naming them (``weft.store.carried_blobs``).
Every failure is a one-line ``ArchiveError`` (or ``NotFound``/``NoIdentity``).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from weft.archive_media import copy_blob, os_problem, read_lines, store_blobs
from weft.core.archive import ArchiveReader, ArchiveSummary, ArchiveWriter, entry_parts
from weft.core.archive_blobs import BLOB_PREFIX
from weft.core.encoding import sha256
from weft.core.entry import decode_entry
from weft.core.identity import IdentityLog, decode_op
from weft.core.ids import entry_id_text
from weft.errors import ArchiveError, IdentityOpRejected, NotFound
from weft.ingest import Offer, Outcome
from weft.node import Node
from weft.store import identities as identity_store
from weft.store.carried_blobs import carry_blobs
from weft.store.entries import device_heads, log_range, stored_at
from weft.store.queries import blocked_by_local

__all__ = ["export_archive", "import_archive"]

PAGE: Final = 1000     # entries read from the database per query while exporting
BATCH: Final = 2000    # entries offered to ingest at once while importing


async def export_archive(node: Node, path: str | Path, did: str | None = None) -> dict[str, Any]:
    """Write ``did``'s identity log, device logs, content and the images it names (default:
    this node's identity).

    Reads one consistent snapshot in pages and writes a temporary file that is renamed
    over ``path`` only when complete. Content that was deleted or has expired is left
    out (the entry goes as a header only); so are images this node does not hold. Returns
    the counts written.
    """
    did = did or node.local().did
    path = Path(path)
    now = node.clock()
    temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    async with node.db.read() as conn:
        if node.db.dialect == "postgresql":  # SQLite's read transaction is a snapshot already
            await conn.execution_options(isolation_level="REPEATABLE READ")
        rows = await identity_store.identity_rows(conn, [did])
        ident_id, state = rows.get(did, (0, None))
        if state is None:
            raise NotFound(f"this node does not hold the identity log of {did}")
        ops = await identity_store.held_ops(conn, did)
        keys = sorted({*state.devices, *state.revoked})
        heads = await device_heads(conn, keys)
        # A revoked device is exported up to its revocation: the identity vouches for no more.
        plan = [(key, min(heads[key].head_seq, state.revoked.get(key, heads[key].head_seq)))
                for key in keys if key in heads and heads[key].identity == ident_id]
        plan = [(key, count) for key, count in plan if count > 0]
        writer = ArchiveWriter(did, now, len(ops), sum(count for _, count in plan))
        header_only = 0
        done = False
        try:
            with _create(temp, path) as handle:
                await _write(handle, [writer.start(), *(writer.op(raw) for raw in ops)], path)
                for key, count in plan:
                    seq = 0
                    while seq < count:
                        page = await log_range(conn, key, seq, min(PAGE, count - seq), now_ms=now)
                        if not page:
                            raise ArchiveError(f"cannot export: this node lacks seq {seq + 1} of "
                                               f"device {key[:20]}…")
                        lines = []
                        for header, content in page:
                            entry = decode_entry(header)
                            seq += 1
                            if entry.seq != seq:
                                raise ArchiveError(f"cannot export: this node lacks seq {seq} of "
                                                   f"device {key[:20]}…")
                            header_only += content is None
                            lines.append(writer.entry(header, content))
                        await _write(handle, lines, path)
                blob_sizes = [await asyncio.to_thread(copy_blob, node.media.blobs, digest, writer, handle)
                              for digest in writer.named]
                await _write(handle, [writer.end()], path)
                await asyncio.to_thread(os.fsync, handle.fileno())
            os.replace(temp, path)
            done = True
        except OSError as exc:
            raise ArchiveError(f"cannot write {path}: {os_problem(exc)}") from None
        finally:
            if not done:
                temp.unlink(missing_ok=True)
    return {"identity": did, "path": str(path), "ops": len(ops),
            "entries": sum(count for _, count in plan), "header_only": header_only,
            "blobs": sum(size > 0 for size in blob_sizes), "blob_bytes": sum(blob_sizes),
            "blobs_missing": sum(size == 0 for size in blob_sizes), "bytes": path.stat().st_size}


def _create(temp: Path, path: Path) -> IO[bytes]:
    try:
        return temp.open("wb")
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {os_problem(exc)}") from None


async def _write(handle: IO[bytes], lines: list[bytes], path: Path) -> None:
    try:
        await asyncio.to_thread(handle.writelines, lines)
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {os_problem(exc)}") from None


def _verify_file(path: Path, now_ms: int) -> tuple[ArchiveSummary, int]:
    """The verified archive's summary, and the byte offset of its first blob record."""
    reader = ArchiveReader(now_ms)
    offset, blob_offset = 0, -1
    try:
        with path.open("rb") as handle:
            for line in read_lines(handle):
                reader.feed(line)
                if blob_offset < 0 and line.startswith(BLOB_PREFIX):
                    blob_offset = offset
                offset += len(line)
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {os_problem(exc)}") from None
    return reader.finish(), blob_offset


@dataclass
class _Tally:
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_rejection: str | None = None

    def count(self, line: int, outcome: Outcome) -> None:
        if outcome.status == "stored":
            self.new += 1
        elif outcome.status == "duplicate":
            self.duplicate += 1
        else:
            self.rejected += 1
            self.reasons[outcome.reason or "rejected"] += 1
            if self.first_rejection is None:
                self.first_rejection = f"line {line}: {outcome.message}"


async def import_archive(node: Node, path: str | Path) -> dict[str, Any]:
    """Verify the whole archive at ``path``, then ingest it; nothing is written unless all of it verifies.

    Importing an archive again is harmless: what this node holds comes back as duplicates.
    Returns counts: identity operations stored, entries new, duplicate and rejected (with
    reasons and the first message: entries this node refuses for its own reasons, such as
    a revocation it knows of and the archive does not); images carried, newly stored here,
    and named by the content but not carried (``blobs_missing``).
    """
    path = Path(path)
    now = node.clock()
    summary, blob_offset = await asyncio.to_thread(_verify_file, path, now)
    await _preflight(node, summary, now)
    results = await node.ingest.identity_ops(summary.ops)
    for number, result in enumerate(results, start=2):
        if not result.ok:
            raise ArchiveError(f"line {number}: this node refused identity operation {number - 1}: "
                               f"{result.message}; no entries were imported")
    # Before the entries, so that a post shows its images as soon as it is stored; files
    # nothing records yet are young, and the media sweep spares young files.
    blobs_new = await asyncio.to_thread(store_blobs, path, summary, blob_offset, node.media.blobs)
    tally = _Tally()
    batches = _entry_batches(path, summary)
    try:
        # One batch at a time, in file order: a later batch must not overtake an earlier one.
        while batch := await asyncio.to_thread(next, batches, None):
            outcomes = await node.ingest.entries([offer for _, offer in batch])
            for (line, _), outcome in zip(batch, outcomes, strict=True):
                tally.count(line, outcome)
    finally:
        batches.close()
    blobs_new += await _hold_blobs(node, path, summary, blob_offset)
    return {"identity": summary.did, "ops": len(summary.ops),
            "ops_new": sum(result.status == "stored" for result in results),
            "entries": summary.entries, "new": tally.new, "duplicate": tally.duplicate,
            "rejected": tally.rejected, "rejections": dict(tally.reasons),
            "first_rejection": tally.first_rejection, "header_only": summary.header_only,
            "blobs": len(summary.blobs), "blobs_new": blobs_new, "blob_bytes": summary.blob_bytes,
            "blobs_missing": summary.blobs_named - len(summary.blobs)}


async def _hold_blobs(node: Node, path: Path, summary: ArchiveSummary, blob_offset: int) -> int:
    """Record the carried blobs as held by the entries naming them; store again any that went
    meanwhile; release those no stored entry holds (its post was deleted here, say). Under the
    media lock, as uploads record theirs, so no removal falls between; how many files were
    stored again."""
    if not summary.blobs:
        return 0
    upkeep = node.media
    async with upkeep.lock:
        async with node.db.write() as conn:
            held = await carry_blobs(conn, summary.blob_refs)
        gone = {digest for digest in held if not await asyncio.to_thread(upkeep.blobs.has, digest)}
        again = await asyncio.to_thread(store_blobs, path, summary, blob_offset, upkeep.blobs, gone) if gone else 0
    await upkeep.release(set(summary.blobs) - held)
    return again


def _entry_batches(path: Path, summary: ArchiveSummary) -> Generator[list[tuple[int, Offer]], None, None]:
    """The entries again, in batches, each line checked against the digest the first pass took."""
    first_entry, after = len(summary.ops) + 2, summary.first_blob_line or summary.lines
    batch: list[tuple[int, Offer]] = []
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(read_lines(handle), start=1):
                if number >= after:
                    break
                if number < first_entry:
                    continue
                parts = entry_parts(line)
                if sha256(line) != summary.line_digest(number) or parts is None:
                    raise ArchiveError(f"line {number}: the file changed while it was being imported; "
                                       "the entries before this line were imported")
                batch.append((number, Offer(*parts)))
                if len(batch) >= BATCH:
                    yield batch
                    batch = []
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {os_problem(exc)}") from None
    if batch:
        yield batch


async def _preflight(node: Node, summary: ArchiveSummary, now: int) -> None:
    """Refuse, before writing anything, what this node's own state would refuse part of.

    A verified archive can still clash with what the node holds: a block by one of its
    identities, a different history of the identity that the recovery rules reject, a
    device log that forked here or holds a different entry at some seq.
    """
    did = summary.did
    async with node.db.read() as conn:
        rows = await identity_store.identity_rows(conn, [did])
        ident_id = rows[did][0] if did in rows else None
        if ident_id is not None:
            if await blocked_by_local(conn, did):
                raise ArchiveError(f"an identity of this node blocks {did}; unblock it to import "
                                   "its archive (nothing was imported)")
            if rows[did][1] is not None:
                log = await identity_store.load_log(conn, ident_id, now)
                _replay_onto(log, summary, now)
        heads = await device_heads(conn, summary.logs)
        for key, archived in summary.logs.items():
            head = heads.get(key)
            if head is None:
                continue
            where = f"line {archived.first_line}: device {key[:20]}…"
            if head.identity != ident_id:
                raise ArchiveError(f"{where} belongs to another identity on this node (nothing was imported)")
            if head.forked:
                raise ArchiveError(f"{where}: this node closed that device log after a fork "
                                   "(nothing was imported)")
            seq = min(head.head_seq, archived.count)
            if seq == 0:
                continue
            # Both copies are hash chains: the same id at this seq means the same entries below it.
            held = await stored_at(conn, head.id, seq)
            if held is None or held[1] != archived.id_at(seq):
                raise ArchiveError(
                    f"line {archived.line_of(seq)}: entry {entry_id_text(archived.id_at(seq))} "
                    f"(device {key[:20]}…, seq {seq}): this node holds a different entry at that seq "
                    "(the device log forked; nothing was imported)")


def _replay_onto(log: IdentityLog, summary: ArchiveSummary, now: int) -> None:
    """Offer the archive's operations to the node's copy of the log, in memory, as ingest will."""
    for number, raw in enumerate(summary.ops, start=1):
        try:
            log.accept(decode_op(raw), now, now_ms=now)
        except IdentityOpRejected as exc:
            raise ArchiveError(f"line {number + 1}: identity operation {number}: this node holds a "
                               f"different history of {summary.did} and refuses it ({exc}); "
                               "nothing was imported") from None
