"""Replication over one ``["weft", "replicate"]`` duplex stream (docs/protocol/replication.md).

Both ends run a ``ReplicationSession``: each says what it wants (its clock), sends the
other what it lacks (identity operations first, then entries in seq order, in batches),
and, when live, goes on sending new entries as they are committed. Everything received
enters through ``Ingest``, like any other entry. A peer that sends a forged, reordered,
forked or oversize entry is cut off with the reason; what it sent before stays.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from weft.core.ids import entry_id_bytes, entry_id_text, parse_entry_id
from weft.errors import WeftError
from weft.ingest import Ingest, Offer, Outcome
from weft.store import identities as identity_store
from weft.store.database import Database
from weft.store.entries import device_heads, log_range
from weft.store.wants import Clock, clock_of, wanted_identities
from weft.sync.batches import Batcher, BatchError, decode_batch
from weft.sync.muxrpc_packets import BodyType
from weft.sync.rpc_connection import RpcStream

__all__ = ["REPLICATE", "PeerMisbehaved", "ReplicationSession", "Replicator", "SessionStats"]

log = logging.getLogger("weft.sync")

REPLICATE = ("weft", "replicate")
PAGE = 500                       # entries read from the store at a time
# Reasons that only a broken or hostile peer produces: it signed, ordered or sized them.
PEER_FAULTS = frozenset({"malformed", "oversize", "bad_signature", "broken_chain", "gap",
                         "content_mismatch", "fork", "unauthorized_device"})


class PeerMisbehaved(WeftError):
    """The peer broke the protocol or sent entries only a broken or hostile peer sends."""


@dataclass
class SessionStats:
    """What one session moved, for progress bars and the peers table."""

    started: float = field(default_factory=time.monotonic)
    received: int = 0            # entries offered by the peer
    stored: int = 0              # of those, new here
    bytes_in: int = 0
    sent: int = 0
    bytes_out: int = 0

    @property
    def rate(self) -> float:
        return self.received / max(time.monotonic() - self.started, 1e-9)


@dataclass
class SessionLimits:
    bytes_per_log: int = 256 * 1024 * 1024   # what one peer may send of one device log per session
    window: int = 2                          # ingest calls in flight


class Replicator:
    """What this node wants and holds: shared by every session with every peer."""

    def __init__(self, db: Database, ingest: Ingest, clock: Callable[[], int], *, hops: int = 2,
                 also: tuple[str, ...] = ()) -> None:
        self.db = db
        self.ingest = ingest
        self.clock = clock
        self.hops = hops
        self.also = also

    async def wanted(self) -> Clock:
        async with self.db.read() as conn:
            dids = await wanted_identities(conn, self.hops, also=self.also)
            return await clock_of(conn, dids)


def _clock_message(number: int, clock: Clock, *, full: bool) -> dict[str, Any]:
    return {"clock": {"ids": {did: entry_id_text(head) if head else "" for did, head in clock.identities.items()},
                      "devs": clock.devices},
            "n": number, "full": full}


class ReplicationSession:
    """One peer, one stream, both directions. ``live=False`` ends once both sides are caught up."""

    def __init__(self, replicator: Replicator, stream: RpcStream, *, live: bool,
                 limits: SessionLimits | None = None,
                 progress: Callable[[SessionStats], None] | None = None) -> None:
        self.replicator = replicator
        self.stream = stream
        self.live = live
        self.limits = limits or SessionLimits()
        self.progress = progress
        self.stats = SessionStats()
        # What we announced and what the peer has confirmed sending for it.
        self._announced = Clock({}, {})
        self._clock_number = 0
        self._peer_synced = -1
        # What the peer wants from us, and how far we have sent it.
        self._their_ids: dict[str, bytes | None] = {}
        self._their_devs: dict[str, int] = {}
        self._their_number = -1
        self._ended = False          # our direction of the stream
        self._announcing = asyncio.Lock()
        self._wake_sender = asyncio.Event()
        self._log_bytes: dict[str, int] = {}
        self._ingesting: list[asyncio.Task[list[Outcome]]] = []
        self._received_everything = asyncio.Event()

    async def run(self) -> SessionStats:
        with self.replicator.ingest.changes() as changes:
            await self._announce(full=True)
            receiving = asyncio.create_task(self._receive())
            tasks = [receiving, asyncio.create_task(self._send()),
                     asyncio.create_task(self._follow_commits(changes))]
            try:
                # The session lasts until the peer ends its direction (or something fails):
                # a peer that says it will send nothing more is leaving.
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
                if receiving in done and not self._ended:
                    await self.stream.end()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await self._drain_ingest(check=False)
        return self.stats

    # -- what we want ----------------------------------------------------------

    async def _announce(self, *, full: bool) -> bool:
        """Tell the peer about logs we want and have not announced; True if there were any."""
        async with self._announcing:
            return await self._announce_changes(full=full)

    async def _announce_changes(self, *, full: bool) -> bool:
        wanted = await self.replicator.wanted()
        if full:
            changes = wanted
        else:
            changes = Clock({did: head for did, head in wanted.identities.items()
                             if did not in self._announced.identities},
                            {key: seq for key, seq in wanted.devices.items()
                             if key not in self._announced.devices})
            if not changes.identities and not changes.devices:
                return False
        self._announced.identities.update(changes.identities)
        self._announced.devices.update(changes.devices)
        self._clock_number += 1
        await self.stream.send(_clock_message(self._clock_number, changes, full=full))
        return True

    async def _follow_commits(self, changes: Any) -> None:
        """New commits may reveal logs to want (a new device, a new follow) or entries to send."""
        while True:
            await changes.next()
            self._wake_sender.set()
            await self._announce(full=False)

    # -- receiving -------------------------------------------------------------

    async def _receive(self) -> None:
        async for packet in self.stream:
            if packet.body_type is BodyType.BINARY:
                await self._receive_batch(bytes(packet.value))
            elif isinstance(packet.value, dict):
                await self._receive_message(packet.value)
            else:
                raise PeerMisbehaved(f"unexpected packet on the replication stream: {str(packet.value)[:80]}")
            if not self.live and self._finished_receiving() and not self._received_everything.is_set():
                await self._drain_ingest(check=True)
                if not await self._announce(full=False):  # what we received may show more to want
                    self._received_everything.set()
                    self._wake_sender.set()
        await self._drain_ingest(check=True)

    def _finished_receiving(self) -> bool:
        return self._peer_synced >= self._clock_number

    async def _receive_message(self, message: dict[str, Any]) -> None:
        if "clock" in message:
            await self._take_clock(message)
        elif "ops" in message:
            await self._drain_ingest(check=True)  # operations before the entries that need them
            raws = [base64.b64decode(op, validate=True) for op in message["ops"]]
            results = await self.replicator.ingest.identity_ops(raws)
            for result in results:
                if not result.ok:
                    log.info("%s sent an identity operation that was refused: %s", self.stream.connection.peer,
                             result.message)
        elif "synced" in message:
            await self._drain_ingest(check=True)
            self._peer_synced = max(self._peer_synced, int(message["synced"]))
        else:
            raise PeerMisbehaved(f"unknown replication message {sorted(message)[:5]}")

    async def _take_clock(self, message: dict[str, Any]) -> None:
        try:
            clock = message["clock"]
            ids = {did: (parse_entry_id(head) if head else None) for did, head in clock["ids"].items()}
            devs = {key: int(seq) for key, seq in clock["devs"].items()}
        except (KeyError, TypeError, ValueError, WeftError) as exc:
            raise PeerMisbehaved(f"malformed clock: {exc}") from None
        if message.get("full"):
            self._their_ids, self._their_devs = ids, devs
        else:
            self._their_ids.update(ids)
            self._their_devs.update(devs)
        self._their_number = int(message.get("n", 0))
        self._wake_sender.set()

    async def _receive_batch(self, data: bytes) -> None:
        try:
            wire = decode_batch(data)
        except BatchError as exc:
            raise PeerMisbehaved(f"malformed batch: {exc}") from None
        self.stats.bytes_in += len(data)
        self.stats.received += len(wire)
        for item in wire:
            size = len(item.header) + len(item.content or b"")
            device = _device_of(item.header)
            self._log_bytes[device] = self._log_bytes.get(device, 0) + size
            if self._log_bytes[device] > self.limits.bytes_per_log:
                raise PeerMisbehaved(f"sent more than {self.limits.bytes_per_log} bytes of log {device[:24]}…")
        offers = [Offer(item.header, item.content) for item in wire]
        self._ingesting.append(asyncio.create_task(self.replicator.ingest.entries(offers)))
        while len(self._ingesting) > self.limits.window:
            self._check(await self._ingesting.pop(0))

    async def _drain_ingest(self, *, check: bool) -> None:
        while self._ingesting:
            task = self._ingesting.pop(0)
            if check:
                self._check(await task)
            else:
                task.cancel()

    def _check(self, outcomes: list[Outcome]) -> None:
        self.stats.stored += sum(outcome.status == "stored" for outcome in outcomes)
        if self.progress is not None:
            self.progress(self.stats)
        for outcome in outcomes:
            if outcome.status == "rejected" and outcome.reason in PEER_FAULTS:
                raise PeerMisbehaved(outcome.message or f"sent an entry refused as {outcome.reason}")

    # -- sending ---------------------------------------------------------------

    async def _send(self) -> None:
        synced = -1
        while True:
            await self._wake_sender.wait()
            self._wake_sender.clear()
            number = self._their_number
            await self._send_ops()
            await self._send_entries()
            if number > synced:
                synced = number
                await self.stream.send({"synced": number})
            # One-shot: caught up both ways (we hold what we asked for, and sent what the
            # peer's latest clock asked for): end our direction; the peer then ends its own.
            if not self.live and self._received_everything.is_set() and synced == self._their_number >= 0:
                self._ended = True
                await self.stream.end()
                return

    async def _send_ops(self) -> None:
        ops: list[bytes] = []
        async with self.replicator.db.read() as conn:
            for did, their_head in list(self._their_ids.items()):
                chain = await identity_store.held_ops(conn, did)
                if not chain:
                    continue
                ids = [entry_id_bytes(raw) for raw in chain]
                if their_head == ids[-1]:
                    continue
                start = ids.index(their_head) + 1 if their_head in ids else 0
                ops.extend(chain[start:])
                self._their_ids[did] = ids[-1]
        for first in range(0, len(ops), 200):
            part = ops[first:first + 200]
            await self.stream.send({"ops": [base64.b64encode(raw).decode("ascii") for raw in part]})
            self.stats.bytes_out += sum(len(raw) for raw in part)

    async def _send_entries(self) -> None:
        batcher = Batcher()
        pending: list[tuple[bytes, bytes | None]] = []
        async with self.replicator.db.read() as conn:
            heads = await device_heads(conn, list(self._their_devs))
        for key, their_seq in list(self._their_devs.items()):
            head = heads.get(key)
            while head is not None and self._their_devs.get(key, head.head_seq) < head.head_seq:
                after = self._their_devs[key]
                async with self.replicator.db.read() as conn:
                    page = await log_range(conn, key, after, PAGE, now_ms=self.replicator.clock())
                if not page:
                    break
                pending.extend(page)
                self._their_devs[key] = after + len(page)
                if len(pending) >= PAGE:
                    await self._send_batches(batcher, pending)
                    pending = []
            del their_seq
        await self._send_batches(batcher, pending)

    async def _send_batches(self, batcher: Batcher, entries: list[tuple[bytes, bytes | None]]) -> None:
        for batch in batcher.batches(entries):
            await self.stream.send(batch, BodyType.BINARY)
            self.stats.bytes_out += len(batch)
        self.stats.sent += len(entries)


def _device_of(header: bytes) -> str:
    """The device a header names, cheaply, for the per-log byte limit (ingest checks it properly)."""
    start = header.find(b'"device":"')
    if start < 0:
        return ""
    end = header.find(b'"', start + 10)
    return header[start + 10:end].decode("ascii", "replace")
