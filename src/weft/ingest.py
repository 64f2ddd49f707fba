"""The one door through which entries and identity operations enter a node.

Whatever carried them (a local write, a gossip peer, an ActivityPub inbox, an
archive), offers go through the same steps: decode and verify signatures on a
thread pool in chunks (PyNaCl releases the GIL), then one writer task runs the
order-dependent checks (chain, device authorization, forks, blocks), stores the
accepted entries and folds them into views, one transaction per batch. Offers
from several callers that wait at the same time share a transaction (grouped
commit). Offering the same entry twice is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.entry import (
    Entry,
    Reason,
    check_chain,
    check_content,
    check_signature,
    check_time,
    decode_entry,
    reject,
)
from weft.core.identity import (
    HeldOp,
    IdentityLog,
    IdentityOp,
    IdentityState,
    check_device,
    decode_op,
)
from weft.core.ids import did_from_genesis, parse_entry_id
from weft.errors import EntryRejected, IdentityOpRejected
from weft.ingest_foreign import ForeignOffer, check_foreign, write_foreign
from weft.store import entries as entry_store
from weft.store import identities as identity_store
from weft.store.blob_refs import named_by_entries, named_by_identity
from weft.store.database import Database
from weft.store.maintenance import checkpoint
from weft.store.outbox import queue_entries
from weft.store.schema import BLOCK, accounts, edits, entries, identities, relations
from weft.store.sql import select_in
from weft.store.views import Folding, fold, purge_devices, purge_identity

__all__ = ["Changes", "Committed", "ForeignOffer", "IdentityOutcome", "Ingest", "Offer", "Outcome"]

log = logging.getLogger("weft.ingest")

OTHERS_POLL_S = 1.0  # how soon a watcher hears of commits made by other processes
_HIGH_WATER_SQL = "SELECT (SELECT max(id) FROM entries), (SELECT max(id) FROM identity_ops)"

Clock = Callable[[], int]


@dataclass(frozen=True)
class Offer:
    """A signed header and, unless it was deleted or not fetched, its content."""

    header: bytes
    content: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one offer."""

    status: Literal["stored", "duplicate", "rejected"]
    entry_id: bytes | None
    reason: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


@dataclass(frozen=True)
class _Verified:
    entry: Entry
    content: bytes | None
    parsed: dict[str, Any] | None


_Checked = _Verified | Outcome


def _verify_chunk(offers: Sequence[Offer], now_ms: int) -> list[_Checked]:
    """The order-independent checks, run on the pool."""
    checked: list[_Checked] = []
    for offer in offers:
        entry: Entry | None = None
        try:
            entry = decode_entry(offer.header)
            check_time(entry, now_ms)
            check_signature(entry)
            parsed = check_content(entry, offer.content) if offer.content is not None else None
            checked.append(_Verified(entry, offer.content, parsed))
        except EntryRejected as exc:
            checked.append(Outcome("rejected", entry.id if entry else None, exc.code, str(exc)))
    return checked


JobKind = Literal["entries", "foreign", "ops"]


@dataclass
class _Job:
    kind: JobKind
    items: list[Any]
    done: asyncio.Future[Any]


@dataclass
class _Batch:
    """What one write transaction learned, for the steps after commit."""

    content_removed: bool = False
    outcomes: list[list[Any]] = field(default_factory=list)


class Ingest:
    """Verification pool plus the single writer task; use as ``async with Ingest(db, clock):``."""

    def __init__(self, db: Database, clock: Clock, *, workers: int | None = None,
                 chunk: int = 256, max_batch: int = 2000) -> None:
        self.db = db
        self.clock = clock
        self.chunk = chunk
        self.max_batch = max_batch
        self._pool = ThreadPoolExecutor(workers or os.cpu_count() or 1, thread_name_prefix="weft-verify")
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._last_handed: asyncio.Future[None] | None = None  # see entries()
        self._watchers: set[Changes] = set()
        self._others: asyncio.Task[None] | None = None
        # Blobs named by what the running transaction removes (images of deleted or purged
        # posts), handed to ``on_blobs_freed`` once it commits (the node's weft.media.upkeep).
        self._freed: set[str] = set()
        self.on_blobs_freed: Callable[[set[str]], Awaitable[int]] | None = None

    async def __aenter__(self) -> Ingest:
        self._writer = asyncio.create_task(self._write_loop(), name="weft-ingest-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._others is not None:
            self._others.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._others
            self._others = None
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        self._pool.shutdown(wait=True)

    # -- the entry path ---------------------------------------------------

    async def entries(self, offers: Sequence[Offer]) -> list[Outcome]:
        """Verify and store entries; one Outcome per offer, in order."""
        if not offers:
            return []
        loop = asyncio.get_running_loop()
        now = self.clock()
        # Calls may overlap (a peer streams the next batch while this one is written): each
        # verifies at once, but hands its batches to the writer only after every earlier
        # call has, so that consecutive parts of one log are written in the order offered.
        turn, self._last_handed = self._last_handed, loop.create_future()
        handed = self._last_handed
        try:
            batches = [offers[i:i + self.max_batch] for i in range(0, len(offers), self.max_batch)]
            verifying = [[loop.run_in_executor(self._pool, _verify_chunk, batch[i:i + self.chunk], now)
                          for i in range(0, len(batch), self.chunk)] for batch in batches]
            checked = [[item for part in await asyncio.gather(*chunks) for item in part] for chunks in verifying]
            if turn is not None:
                await asyncio.shield(turn)
            writes = [self._submit("entries", batch) for batch in checked]
        finally:
            handed.set_result(None)
        return [outcome for part in await asyncio.gather(*writes) for outcome in part]

    async def entry(self, header: bytes, content: bytes | None) -> Outcome:
        return (await self.entries([Offer(header, content)]))[0]

    async def foreign(self, offers: Sequence[ForeignOffer]) -> list[Outcome]:
        """Store foreign entries (what the federation face made of activities it trusts);
        one Outcome per offer, in order. A held origin is a duplicate."""
        if not offers:
            return []
        checked = check_foreign(offers, self.clock())
        written = await self._submit("foreign", list(checked))
        return [Outcome(w.status, w.entry_id, w.reason, w.message) for w in written]

    async def identity_ops(self, raws: Sequence[bytes]) -> list[IdentityOutcome]:
        """Validate and store identity operations (genesis first), routed by their prev."""
        results: list[IdentityOutcome] = await self._submit("ops", list(raws))
        return results

    def _submit(self, kind: JobKind, items: list[Any]) -> asyncio.Future[Any]:
        if self._writer is None:
            raise RuntimeError("Ingest is not running: use 'async with Ingest(...)'")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(kind, items, done))
        return done

    # -- the writer -------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].items)
            while not self._queue.empty() and size < self.max_batch and jobs[0].kind != "ops":
                peek = self._queue._queue[0]  # type: ignore[attr-defined]
                if peek.kind != jobs[0].kind:
                    break
                jobs.append(self._queue.get_nowait())
                size += len(peek.items)
            try:
                results, removed = await self._run(jobs)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of the failure
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(exc)
                continue
            if removed:
                # Before anyone hears "done": when a delete returns, its bytes are gone.
                try:
                    await checkpoint(self.db)
                except Exception:  # the batch is committed; upkeep retries the checkpoint
                    log.exception("checkpoint after removing content failed; retried at the next upkeep")
                    self.db.checkpoint_owed = True
            freed, self._freed = self._freed, set()
            if freed and self.on_blobs_freed is not None:
                try:  # after the commit, before "done": a deleted post's images are gone when it returns
                    await self.on_blobs_freed(freed)
                except Exception:  # committed: the media sweep removes what this left
                    log.exception("removing the media files of removed posts failed; the media sweep will")
            for job, result in zip(jobs, results, strict=True):
                if not job.done.done():
                    job.done.set_result(result)
            self._announce(jobs, results)

    # -- telling others what was committed -----------------------------------

    def changes(self) -> Changes:
        """A feed of what is committed from now on (for live replication and streaming).

        Commits of this process come with what they added. Other processes write to the same
        database too (a CLI command beside ``weft serve``, several workers on PostgreSQL):
        while anyone watches, the database's high-water marks are read every
        ``OTHERS_POLL_S`` and a change is announced as an empty notice, which tells a
        watcher to look for itself. One statement of two index lookups, once a second.
        """
        watcher = Changes(self._watchers)
        self._watchers.add(watcher)
        if self._others is None or self._others.done():
            self._others = asyncio.create_task(self._watch_other_writers(), name="weft-ingest-others")
        return watcher

    async def _watch_other_writers(self) -> None:
        last = await self._high_water()
        while self._watchers:
            await asyncio.sleep(OTHERS_POLL_S)
            try:
                now = await self._high_water()
            except Exception:  # a database hiccup must not end live replication
                log.warning("cannot read the database's high-water marks; trying again", exc_info=True)
                continue
            if now != last:
                last = now
                for watcher in list(self._watchers):
                    watcher.add(Committed({}, frozenset()))

    async def _high_water(self) -> tuple[int | None, int | None]:
        # One plain statement (both maxima are index lookups): this runs while nothing happens.
        async with self.db.read() as conn:
            values: tuple[Any, ...] = tuple((await conn.exec_driver_sql(_HIGH_WATER_SQL)).one())
        return values[0], values[1]

    def _announce(self, jobs: list[_Job], results: list[Any]) -> None:
        if not self._watchers:
            return
        heads: dict[str, int] = {}
        dids: set[str] = set()
        foreign = False   # foreign logs are never gossiped: their news names no head, only "look"
        for job, result in zip(jobs, results, strict=True):
            for item, outcome in zip(job.items, result, strict=True):
                if outcome.status != "stored":
                    continue
                if job.kind == "foreign":
                    foreign = True
                elif isinstance(outcome, IdentityOutcome):
                    if outcome.did is not None:
                        dids.add(outcome.did)
                elif isinstance(item, _Verified):
                    heads[item.entry.device] = max(heads.get(item.entry.device, 0), item.entry.seq)
        if heads or dids or foreign:
            for watcher in list(self._watchers):
                watcher.add(Committed(heads, frozenset(dids)))

    async def _run(self, jobs: list[_Job]) -> tuple[list[Any], bool]:
        now = self.clock()
        self._freed = set()
        async with self.db.write() as conn:
            if jobs[0].kind == "ops":
                results, removed = await self._write_ops(conn, jobs[0].items, now)
                return [results], removed
            merged = [item for job in jobs for item in job.items]
            if jobs[0].kind == "foreign":
                written, removed = await write_foreign(conn, merged, now, await self._blocked_by_locals(conn),
                                                       await identity_store.local_identity_ids(conn))
                outcomes: list[Any] = list(written)
            else:
                outcomes, removed = await self._write_entries(conn, merged, now)
        split: list[Any] = []
        start = 0
        for job in jobs:
            split.append(outcomes[start:start + len(job.items)])
            start += len(job.items)
        return split, removed

    async def _blocked_by_locals(self, conn: AsyncConnection) -> set[int]:
        """Whom the node's own people block: their entries are refused and purged here.

        The node's own people are its local identities other than hosted accounts. A hosted
        account's block hides the blocked from that account alone (weft.store.statuses): on a
        server of many people, one person's block must not take anyone's posts away from the
        others, nor a blocked account's own posts from its owner.
        """
        hosted = select(accounts.c.identity)
        rows = await conn.execute(
            select(relations.c.target).join(identities, identities.c.id == relations.c.source)
            .where(identities.c.local.is_(True), identities.c.id.not_in(hosted), relations.c.kind == BLOCK,
                   relations.c.active.is_(True)))
        return {target for (target,) in rows.all()}

    async def _write_entries(self, conn: AsyncConnection, checked: list[_Checked],
                             now: int) -> tuple[list[Outcome], bool]:
        outcomes: list[Outcome | None] = [item if isinstance(item, Outcome) else None for item in checked]
        good = [(i, item) for i, item in enumerate(checked) if isinstance(item, _Verified)]
        if not good:
            return [o for o in outcomes if o is not None], False
        idents = await identity_store.identity_rows(conn, {v.entry.author for _, v in good})
        local_ids = await identity_store.local_identity_ids(conn)
        blocked = await self._blocked_by_locals(conn)
        heads = await entry_store.device_heads(conn, {v.entry.device for _, v in good}, lock=True)
        deleted = await self._deleted_targets(conn, [v.entry.id for _, v in good])
        good.sort(key=lambda pair: (pair[1].entry.device, pair[1].entry.seq))
        heads.update(await entry_store.insert_devices(conn, self._new_devices(good, heads, idents, blocked)))
        rows: list[dict[str, Any]] = []
        to_fold: list[tuple[int, _Verified, int]] = []   # (position in rows, item, author id)
        pending: dict[tuple[str, int], tuple[bytes, bytes]] = {}
        positions: dict[tuple[str, int], int] = {}  # (device, seq) -> index in rows
        touched: dict[int, entry_store.DeviceHead] = {}
        filled: list[Folding] = []
        removed = False
        for index, item in good:
            entry = item.entry
            try:
                ident = idents.get(entry.author)
                state = ident[1] if ident else None
                check_device(entry, state)  # raises unknown_identity when state is None
                if ident is None:
                    raise reject(Reason.UNKNOWN_IDENTITY, f"{entry.describe()}: identity not held")
                author_id = ident[0]
                if author_id in blocked:
                    raise reject(Reason.BLOCKED, f"{entry.describe()}: {entry.author} is blocked here")
                head = heads.get(entry.device)
                if head is None:  # _new_devices made rows for every device that can pass the above
                    raise AssertionError(f"{entry.describe()}: no device row")
                if head.identity != author_id:
                    raise reject(Reason.UNAUTHORIZED_DEVICE, f"{entry.describe()}: device belongs to another identity")
                if head.forked:
                    raise reject(Reason.FORKED_LOG, f"{entry.describe()}: this device log forked; no more entries are accepted from it")
                if entry.seq <= head.head_seq:
                    outcome, fill = await self._held_already(conn, head, entry, item, pending, deleted, now)
                    outcomes[index] = outcome
                    if fill is not None:
                        filled.append(Folding(fill, entry, author_id, item.parsed or {}))
                    position = positions.get((entry.device, entry.seq))
                    if (position is not None and rows[position]["content"] is None and item.parsed is not None
                            and not (entry.expires is not None and entry.expires <= now)
                            and author_id not in deleted.get(entry.id, ())):
                        # The header came earlier in this batch without content; this offer brings it.
                        rows[position]["content"] = item.content
                        to_fold.append((position, item, author_id))
                    continue
                check_chain(entry, head.head_seq, head.head_id)
            except EntryRejected as exc:
                outcomes[index] = Outcome("rejected", entry.id, exc.code, str(exc))
                continue
            content, parsed = item.content, item.parsed
            if content is not None and ((entry.expires is not None and entry.expires <= now)
                                        or author_id in deleted.get(entry.id, ())):
                content, parsed = None, None
            to_fold_index = len(rows)
            rows.append({"entry_id": entry.id, "device": head.id, "seq": entry.seq, "author": author_id,
                         "ts": entry.ts, "expires": entry.expires, "header": entry.raw, "content": content})
            if parsed is not None:
                to_fold.append((to_fold_index, item, author_id))
            pending[(entry.device, entry.seq)] = (entry.id, entry.raw)
            positions[(entry.device, entry.seq)] = to_fold_index
            head.head_seq, head.head_id = entry.seq, entry.id
            touched[head.id] = head
            outcomes[index] = Outcome("stored", entry.id)
        row_ids = await entry_store.insert_entries(conn, rows)
        foldings = [Folding(row_ids[pos], item.entry, author, item.parsed or {}) for pos, item, author in to_fold]
        deletes = [f.content["target"] for f in [*foldings, *filled] if f.content.get("type") == "delete"]
        if deletes:  # read before the fold drops the content that names them
            self._freed |= await named_by_entries(conn, [parse_entry_id(target) for target in deletes])
        # Hosted people's new entries that federate, queued in this transaction (decision 0007),
        # before the fold: a delete's row keeps what its target was, which the fold drops.
        await queue_entries(conn, [(f.row_id, f.author_id, f.content) for f in foldings], now)
        folded = await fold(conn, [*foldings, *filled], local_ids)
        await entry_store.update_heads(conn, list(touched.values()))
        if folded.blocked:
            for target in folded.blocked & await self._blocked_by_locals(conn):
                self._freed |= await named_by_identity(conn, target)
                await purge_identity(conn, target)
                removed = True
        return [o for o in outcomes if o is not None], removed or folded.content_removed

    @staticmethod
    def _new_devices(good: list[tuple[int, _Verified]], heads: dict[str, entry_store.DeviceHead],
                     idents: dict[str, tuple[int, IdentityState | None]], blocked: set[int]) -> dict[str, int]:
        """Devices first seen in this batch whose first entry passes the identity checks:
        key -> identity row id. ``good`` is sorted by (device, seq), so the first entry of a
        device comes first; if it fails those checks, every later one does too."""
        new: dict[str, int] = {}
        seen: set[str] = set()
        for _, item in good:
            entry = item.entry
            if entry.device in heads or entry.device in seen:
                continue
            seen.add(entry.device)
            ident = idents.get(entry.author)
            if ident is None or ident[0] in blocked:
                continue
            try:
                check_device(entry, ident[1])
            except EntryRejected:
                continue
            new[entry.device] = ident[0]
        return new

    async def _deleted_targets(self, conn: AsyncConnection, ids: list[bytes]) -> dict[bytes, set[int]]:
        """Entry id -> the authors who deleted it (only the entry's own author counts)."""
        found: dict[bytes, set[int]] = {}
        for target, author in await select_in(conn, "SELECT target, author FROM deletions WHERE target {in}", ids):
            found.setdefault(bytes(target), set()).add(author)
        return found

    async def _held_already(self, conn: AsyncConnection, head: entry_store.DeviceHead, entry: Entry,
                            item: _Verified, pending: dict[tuple[str, int], tuple[bytes, bytes]],
                            deleted: dict[bytes, set[int]], now: int) -> tuple[Outcome, int | None]:
        """A duplicate (maybe bringing content we lacked) or a fork."""
        row_id: int | None = None
        in_batch = pending.get((entry.device, entry.seq))
        if in_batch is not None:
            held_id, held_header = in_batch
            has_content = True
        else:
            stored = await entry_store.stored_at(conn, head.id, entry.seq)
            if stored is None:  # purged (e.g. revoked past its last seq); treat as a gap
                raise reject(Reason.GAP, f"{entry.describe()}: this node holds no entry at that seq")
            row_id, held_id, held_header, has_content = stored
        if held_id != entry.id:
            await entry_store.record_fork(conn, head, entry.seq, held_header, entry.raw, now)
            raise reject(Reason.FORK, f"{entry.describe()}: a different entry with this device and seq "
                         "is already held; the evidence is kept and the log is closed")
        if (row_id is not None and not has_content and item.content is not None
                and not (entry.expires is not None and entry.expires <= now)
                and head.identity not in deleted.get(entry.id, ())
                # An edit already folded lost its content when its post was deleted: keep it gone.
                and (await conn.execute(select(edits.c.entry).where(edits.c.entry == row_id))).first() is None):
            await conn.execute(update(entries).where(entries.c.id == row_id).values(content=item.content))
            return Outcome("duplicate", entry.id), row_id
        return Outcome("duplicate", entry.id), None

    # -- the identity path -------------------------------------------------

    async def _write_ops(self, conn: AsyncConnection, raws: list[bytes],
                         now: int) -> tuple[list[IdentityOutcome], bool]:
        """Identity operations in the order given, each routed to its log by its ``prev``.

        Lookups and writes are done for the whole batch (a node meeting a thousand new
        identities at once takes their genesis operations together), the checks one by
        one in memory, in order, so an operation may build on one earlier in the batch.
        """
        results: list[IdentityOutcome | None] = [None] * len(raws)
        decoded: list[tuple[int, IdentityOp]] = []
        for index, raw in enumerate(raws):
            try:
                decoded.append((index, decode_op(raw)))
            except IdentityOpRejected as exc:
                results[index] = IdentityOutcome("rejected", None, None, exc.code, str(exc))
        geneses = {op.id: did_from_genesis(op.raw) for _, op in decoded if op.prev is None}
        ident_of_did = await identity_store.ensure_identities(conn, geneses.values())
        owner = await identity_store.identities_of_ops(conn, [op.prev for _, op in decoded if op.prev is not None])
        logs = await identity_store.load_logs(conn, {*ident_of_did.values(), *owner.values()}, now)
        changed: dict[int, list[tuple[HeldOp, bytes]]] = {}
        for index, op in decoded:
            try:
                ident_id = ident_of_did[geneses[op.id]] if op.prev is None else owner.get(op.prev)
                if ident_id is None:
                    raise IdentityOpRejected("unknown_prev", f"unknown_prev: operation {op.id_text} "
                                             "follows an operation this node does not hold")
                log = logs.setdefault(ident_id, IdentityLog())
                accepted = log.accept(op, now, now_ms=now)
                if accepted.duplicate:
                    results[index] = IdentityOutcome("duplicate", op.id, log.did)
                    continue
                owner[op.id] = ident_id  # later operations of this batch may follow it
                changed.setdefault(ident_id, []).extend((held, op.id) for held in accepted.superseded)
                results[index] = IdentityOutcome("stored", op.id, log.did, superseded=len(accepted.superseded))
            except IdentityOpRejected as exc:
                results[index] = IdentityOutcome("rejected", None, None, exc.code, str(exc))
        await identity_store.save_logs(conn, {ident_id: logs[ident_id] for ident_id in changed}, changed)
        removed = await self._enforce_devices(conn, {ident_id: logs[ident_id].state for ident_id in changed})
        return [result for result in results if result is not None], removed

    async def _enforce_devices(self, conn: AsyncConnection, states: dict[int, IdentityState]) -> bool:
        """Drop entries the identities no longer vouch for (unauthorized, or past a revocation)."""
        rows = await select_in(conn, "SELECT id, key, identity FROM devices WHERE identity {in}", sorted(states))
        removed = 0
        for device_id, key, ident_id in rows:
            state = states[ident_id]
            if key in state.devices:
                continue
            removed += await purge_devices(conn, [device_id], state.revoked.get(key, 0))
        return removed > 0


@dataclass(frozen=True)
class Committed:
    """What one or more commits added: new heads of device logs, and identities whose log grew."""

    heads: dict[str, int]
    identities: frozenset[str]

    def merged(self, later: Committed) -> Committed:
        heads = dict(self.heads)
        for device, seq in later.heads.items():
            heads[device] = max(heads.get(device, 0), seq)
        return Committed(heads, self.identities | later.identities)


class Changes:
    """One subscriber's view of commits: ``await changes.next()`` returns everything committed
    since the last call, merged, so a slow reader costs one notice, never a growing queue.
    Use as a context manager (or call ``close``) to stop receiving."""

    def __init__(self, registry: set[Changes]) -> None:
        self._registry = registry
        self._pending: Committed | None = None
        self._ready = asyncio.Event()

    def add(self, notice: Committed) -> None:
        self._pending = notice if self._pending is None else self._pending.merged(notice)
        self._ready.set()

    def take(self) -> Committed | None:
        """What was committed since the last call, without waiting; None if nothing was."""
        if not self._ready.is_set():
            return None
        self._ready.clear()
        notice, self._pending = self._pending or Committed({}, frozenset()), None
        return notice

    async def next(self) -> Committed:
        await self._ready.wait()
        self._ready.clear()
        notice, self._pending = self._pending or Committed({}, frozenset()), None
        return notice

    def close(self) -> None:
        self._registry.discard(self)

    def __enter__(self) -> Changes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class IdentityOutcome:
    """What became of one identity operation."""

    status: Literal["stored", "duplicate", "rejected"]
    op_id: bytes | None
    did: str | None
    reason: str | None = None
    message: str | None = None
    superseded: int = 0

    @property
    def ok(self) -> bool:
        return self.status != "rejected"
