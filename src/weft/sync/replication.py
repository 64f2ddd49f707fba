"""Replication over one ``["weft", "replicate"]`` duplex stream (docs/protocol/replication.md).

Both ends run a ``ReplicationSession``: each says what it wants (its clock), sends the
other what it lacks (identity operations first, then entries in seq order, in batches),
and, when live, goes on sending new entries as they are committed. Everything received
enters through ``Ingest``, like any other entry, after the checks of
``replication_messages.Intake``. A peer that sends a forged, reordered, forked or oversize
entry, or a log we did not ask for, is cut off with the reason; what it sent before stays.

One task receives, one sends, one follows our own commits. Only the sending task writes
to the stream: what the other two have to say (clocks, acks) is queued for it, so that
neither ever waits on the peer reading. Two peers that both stopped reading while their
receivers waited to write would otherwise wait on each other forever.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from weft.core.ids import entry_id_bytes
from weft.ingest import Changes, Offer, Outcome
from weft.sync.batches import Batcher, BatchError, decode_batch
from weft.sync.muxrpc_packets import BodyType
from weft.sync.replication_messages import (
    PEER_FAULTS,
    Ack,
    ClockMessage,
    Intake,
    PeerMemory,
    PeerMisbehaved,
    Positions,
    genesis_did,
    read_number,
    read_ops,
)
from weft.sync.replicator import Blocked, Replicator
from weft.sync.rpc_connection import RpcStream

__all__ = ["PEER_FAULTS", "REPLICATE", "PeerMisbehaved", "ReplicationSession", "Replicator", "SessionLimits",
           "SessionStats"]

log = logging.getLogger("weft.sync")

REPLICATE = ("weft", "replicate")
PAGE = 500                       # entries read from the store at a time
OPS_PER_MESSAGE = 200
SETTLE_SECONDS = 30.0            # how long a closing session waits for ingest to take what it received


@dataclass
class SessionStats:
    """What one session moved, for progress bars and the peers table."""

    started: float = field(default_factory=time.monotonic)
    received: int = 0            # entries offered by the peer
    stored: int = 0              # of those, new here
    bytes_in: int = 0
    sent: int = 0
    bytes_out: int = 0
    announced: int = 0           # logs named in the clocks we sent

    @property
    def rate(self) -> float:
        return self.received / max(time.monotonic() - self.started, 1e-9)


@dataclass
class SessionLimits:
    """What one peer may make a session hold (the muxrpc frame and open requests are RpcLimits)."""

    bytes_per_log: int = 256 * 1024 * 1024   # what one peer may send of one device log per session
    # Ingest calls in flight. A batch is ~100 entries; ingest groups the calls waiting for it
    # into one transaction, so a deep window makes transactions of ~2,000 entries instead of
    # ~200 (3.7k -> 8.8k entries/s in bench_sync), for at most 32 x 64 KiB held.
    window: int = 32
    max_logs: int = 100_000                  # logs a peer's clock may name


class ReplicationSession:
    """One peer, one stream, both directions. ``live=False`` ends once both sides are caught up.

    ``memory`` is what this node kept of the peer from an earlier session (None: nothing);
    ``remembered()`` is what to keep after this one.
    """

    def __init__(self, replicator: Replicator, stream: RpcStream, *, live: bool,
                 limits: SessionLimits | None = None,
                 progress: Callable[[SessionStats], None] | None = None,
                 memory: PeerMemory | None = None) -> None:
        self.replicator = replicator
        self.stream = stream
        self.live = live
        self.limits = limits or SessionLimits()
        self.progress = progress
        self.stats = SessionStats()
        self.memory = memory or PeerMemory.new()
        self._remembers = memory is not None
        # What the peer knows of us: the logs we want, at the positions we told it we hold.
        self._told = self.memory.told.copy() if memory else Positions()
        self._number = self.memory.number
        self._dropped: set[str] = set()      # logs we stopped wanting: entries may still be in flight
        # What we know of the peer: the logs it wants and holds (its clocks, its acks), and
        # how far we have sent them, ahead of its acks. None until a clock of this session.
        self._theirs: Positions | None = None
        self._sent = Positions()
        self._their_epoch: str | None = None
        self._their_number = -1
        self._asked_resend = self._resent = False
        # How far the exchange is, in clock numbers.
        self._peer_synced = self._peer_caught_up = self._synced_sent = self._caught_up_sent = -1
        self._intake = Intake(self.limits.bytes_per_log)
        self._ingesting: deque[tuple[asyncio.Task[list[Outcome]], list[tuple[str, int]]]] = deque()
        self._ingest_added = asyncio.Event()
        self._settling = asyncio.Lock()
        self._outbox: deque[dict[str, Any]] = deque()
        self._acks = Ack({}, {})
        self._ended = False                  # our direction of the stream
        self._announcing = asyncio.Lock()
        self._wake_sender = asyncio.Event()
        self._data_due = False               # a pass over what the peer lacks is due (not just a message)

    @property
    def peer_wants(self) -> frozenset[str]:
        """The logs (DIDs and device keys) the peer asks us for, as of its latest clock."""
        theirs = self._theirs or Positions()
        return frozenset([*theirs.ids, *theirs.devs])

    def remembered(self) -> PeerMemory:
        if self._theirs is None:  # the peer's clock never came: what we knew of it still holds
            their_epoch, their_number, theirs = (self.memory.their_epoch, self.memory.their_number,
                                                 self.memory.theirs)
        else:
            their_epoch, their_number, theirs = self._their_epoch, self._their_number, self._theirs.copy()
        return PeerMemory(self.memory.epoch, self._number, self._told.copy(), their_epoch, their_number, theirs)

    async def run(self) -> SessionStats:
        with self.replicator.ingest.changes() as changes:
            await self._announce(first=True)
            receiving = asyncio.create_task(self._receive())
            tasks = [receiving, asyncio.create_task(self._send()), asyncio.create_task(self._settle_forever()),
                     asyncio.create_task(self._follow_commits(changes))]
            try:
                # The session lasts until the peer ends its direction (or something fails):
                # a peer that says it will send nothing more is leaving.
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
                if receiving in done and not self._ended:
                    self._ended = True
                    await self.stream.end()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):  # the first failure is raised above
                        await task
                # Entries the peer sent before it left or failed were verified or are being
                # verified: let ingest keep them rather than cancel (the peer need not resend).
                await self._settle_in_flight()
        return self.stats

    # -- what we want ----------------------------------------------------------

    def _queue(self, message: dict[str, Any]) -> None:
        if not self._ended:
            self._outbox.append(message)
            self._wake_sender.set()

    async def _announce(self, *, first: bool = False, full: bool = False) -> bool:
        async with self._announcing:
            return await self._announce_changes(first=first, full=full)

    async def _announce_changes(self, *, first: bool = False, full: bool = False) -> bool:
        """Queue a clock for what changed in what we want; True if there was anything to say.

        The first clock of a session says, if the peer may remember us, every log whose
        position changed since; later ones only logs newly wanted or no longer wanted.
        """
        if self._ended:
            return False
        wanted = await self.replicator.wanted()
        if full or (first and not self._remembers):
            clock = ClockMessage(self._number + 1, self.memory.epoch, True, wanted)
            dropped = set(self._told.ids.keys() - wanted.ids.keys()) | (self._told.devs.keys() - wanted.devs.keys())
            self._told = wanted.copy()
        else:
            changes, drop_ids, drop_devs = self._told.changes_to(wanted, positions=first)
            clock = ClockMessage(self._number + 1, self.memory.epoch, False, changes, drop_ids, drop_devs,
                                 since=self._number if first else None)
            if not first and not clock.logs:
                return False
            self._told.apply(clock)
            dropped = set(drop_ids | drop_devs)
        self._dropped = (self._dropped | dropped) - set(self._told.ids) - set(self._told.devs)
        self._number = clock.number
        self.stats.announced += clock.logs
        self._queue(clock.to_json())
        return True

    async def _follow_commits(self, changes: Changes) -> None:
        """New commits may reveal logs to want (a new device, a follow), drop (a block) or send."""
        while True:
            await changes.next()
            self._wake_for_data()
            await self._announce()

    def _wake_for_data(self) -> None:
        self._data_due = True
        self._wake_sender.set()

    async def _check_caught_up(self) -> None:
        """The peer sent all our latest clock asked for: once ingest has it, want more or say so."""
        if self._peer_synced < self._number:
            return
        await self._settle_all()
        async with self._announcing:
            if self._peer_synced < self._number or await self._announce_changes():
                return  # what we received showed more to want: wait for the peer to send it
            if self._caught_up_sent < self._number:
                self._caught_up_sent = self._number
                self._queue({"caught_up": self._number})

    # -- receiving -------------------------------------------------------------

    async def _receive(self) -> None:
        async for packet in self.stream:
            if packet.body_type is BodyType.BINARY:
                await self._receive_batch(bytes(packet.value))
            elif isinstance(packet.value, dict):
                await self._receive_message(packet.value)
            else:
                raise PeerMisbehaved(f"unexpected packet on the replication stream: {str(packet.value)[:80]}")
        await self._settle_all()

    async def _receive_message(self, message: dict[str, Any]) -> None:
        if "clock" in message:
            await self._take_clock(ClockMessage.from_json(message, self.limits.max_logs))
        elif "ops" in message:
            await self._receive_ops(read_ops(message))
        elif "ack" in message:
            self._take_ack(Ack.from_json(message))
        elif "synced" in message:
            await self._settle_all()  # entries before the word "synced" are in before we act on it
            self._peer_synced = max(self._peer_synced, read_number(message, "synced"))
            await self._check_caught_up()
        elif "caught_up" in message:
            self._peer_caught_up = max(self._peer_caught_up, read_number(message, "caught_up"))
            self._wake_sender.set()
        elif "resend" in message:
            if self._resent:
                raise PeerMisbehaved("asked twice in one session for our full clock")
            self._resent = True
            await self._announce(full=True)
        else:
            raise PeerMisbehaved(f"unknown replication message {sorted(message)[:5]}")

    async def _take_clock(self, clock: ClockMessage) -> None:
        if clock.full:
            theirs = clock.changes.copy()
        elif self._theirs is None:
            # The first clock of the session changes what we remember of the peer: only if
            # we remember exactly the clocks it has sent us (else it must send all of it).
            remembered = self.memory
            if clock.since is None or (remembered.their_epoch, remembered.their_number) != (clock.epoch, clock.since):
                if self._asked_resend:
                    raise PeerMisbehaved("sent a change to a clock we do not hold, after we asked for all of it")
                self._asked_resend = True
                self._queue({"resend": clock.number})
                return
            theirs = remembered.theirs.copy()
            theirs.apply(clock)
        elif clock.epoch != self._their_epoch or clock.number <= self._their_number:
            raise PeerMisbehaved(f"a clock out of sequence ({clock.epoch} {clock.number})")
        else:
            theirs = self._theirs
            theirs.apply(clock)
        if len(theirs) > self.limits.max_logs:
            raise PeerMisbehaved(f"wants more than {self.limits.max_logs} logs (the limit)")
        if self._theirs is None or clock.full:
            self._sent = theirs.copy()
        else:
            self._sent.apply(clock)
        self._theirs, self._their_epoch, self._their_number = theirs, clock.epoch, clock.number
        self._wake_for_data()

    def _take_ack(self, ack: Ack) -> None:
        if self._theirs is None:
            return
        for did, head in ack.ids.items():
            if did in self._theirs.ids:
                self._theirs.ids[did] = head
        for key, seq in ack.devs.items():
            if key in self._theirs.devs:
                self._theirs.devs[key] = max(self._theirs.devs[key], seq)
                self._sent.devs[key] = max(self._sent.devs.get(key, 0), seq)

    async def _receive_ops(self, raws: list[bytes]) -> None:
        await self._settle_all()  # operations after the entries sent before them (a revocation cuts a log)
        # A genesis names its identity: one we did not ask for is refused before it is stored.
        keep = []
        for raw in raws:
            did = genesis_did(raw)
            if did is not None and did in self._dropped:
                continue
            if did is not None and did not in self._told.ids:
                raise PeerMisbehaved(f"sent the identity log of {did}, which we did not ask for")
            keep.append(raw)
        if not keep:
            return
        results = await self.replicator.ingest.identity_ops(keep)
        sent_ids = {entry_id_bytes(raw) for raw in keep}
        grown: list[str] = []
        refused = [result.message for result in results if not result.ok]
        if refused:  # one line per message, however many: a log a peer can flood is a weapon
            log.info("%s sent %d identity operations that were refused, the first: %s",
                     self.stream.connection.peer, len(refused), refused[0])
        for result in results:
            if result.ok and result.did is not None and result.did not in self._dropped:
                if result.did not in self._told.ids:  # a later operation of an identity we hold but do not want
                    raise PeerMisbehaved(f"sent identity operations of {result.did}, which we did not ask for")
                grown.append(result.did)
        if grown:
            heads = {did: head for did, head in (await self.replicator.heads(sorted(set(grown)))).items()
                     if head is not None}
            self._acknowledge(Ack(heads, {}))
            for did, head in heads.items():  # it sent these: it holds them, no need to send them back
                if head in sent_ids and self._theirs is not None and did in self._sent.ids:
                    self._sent.ids[did] = head

    async def _receive_batch(self, data: bytes) -> None:
        self.stats.bytes_in += len(data)
        try:
            batch = decode_batch(data)
        except BatchError as exc:
            raise PeerMisbehaved(f"malformed batch: {exc}") from None
        self.stats.received += len(batch)
        screened = self._intake.screen(batch, self._told.devs, self._dropped)
        if screened.offers:
            offers = [Offer(item.header, item.content) for item in screened.offers]
            self._ingesting.append((asyncio.create_task(self.replicator.ingest.entries(offers)), screened.logs))
            self._ingest_added.set()
            if self._theirs is not None:  # it sent these: it holds them, no need to send them back
                for key, seq in screened.logs:
                    if key in self._sent.devs:
                        self._sent.devs[key] = max(self._sent.devs[key], seq)
                        self._theirs.devs[key] = max(self._theirs.devs.get(key, 0), seq)
        if screened.fault is not None:
            raise PeerMisbehaved(screened.fault)
        while len(self._ingesting) > self.limits.window:
            await self._settle_next()

    async def _settle_forever(self) -> None:
        """Look at what ingest made of each batch as soon as it is done, not when the peer
        next speaks: a peer that sends a bad entry and then nothing is still found out."""
        while True:
            await self._ingest_added.wait()
            self._ingest_added.clear()
            await self._settle_all()

    async def _settle_next(self) -> None:
        """Settle the oldest batch in ingest (in order: a stall must be known before the next)."""
        async with self._settling:
            if not self._ingesting:
                return
            task, logs = self._ingesting[0]
            outcomes = await asyncio.shield(task)  # whoever waits may be cancelled; the entries stay
            self._ingesting.popleft()
        settled = self._intake.settle(logs, outcomes)
        self.stats.stored += settled.stored
        if self.progress is not None:
            self.progress(self.stats)
        if settled.fault is not None:
            raise PeerMisbehaved(settled.fault)
        if settled.acks:
            self._acknowledge(Ack({}, settled.acks))

    async def _settle_all(self) -> None:
        while self._ingesting:
            await self._settle_next()

    async def _settle_in_flight(self) -> None:
        """At the end, whatever happened: wait for ingest to take what it was given."""
        if not self._ingesting:
            return
        tasks = [task for task, _ in self._ingesting]
        done, pending = await asyncio.wait(tasks, timeout=SETTLE_SECONDS)
        for task in pending:
            task.cancel()
        for task in tasks:
            if task in done and not task.cancelled() and task.exception() is None:
                self.stats.stored += sum(outcome.status == "stored" for outcome in task.result())
        self._ingesting.clear()
        if self.progress is not None:
            self.progress(self.stats)

    def _acknowledge(self, ack: Ack) -> None:
        """Tell the peer what we now hold of logs we want, merged into the next ack we send."""
        ids = {did: head for did, head in ack.ids.items() if did in self._told.ids}
        # Never lower: the peer takes the highest position it heard of (see _take_ack).
        devs = {key: max(seq, self._told.devs[key]) for key, seq in ack.devs.items() if key in self._told.devs}
        self._told.ids.update(ids)
        self._told.devs.update(devs)
        self._acks.ids.update(ids)
        self._acks.devs.update(devs)
        if ids or devs:
            self._wake_sender.set()

    # -- sending ---------------------------------------------------------------

    async def _flush(self) -> None:
        """Write what the other tasks queued: clocks and the rest in order, acks merged."""
        while self._outbox or self._acks.ids or self._acks.devs:
            if self._acks.ids or self._acks.devs:
                message, self._acks = self._acks.to_json(), Ack({}, {})
            else:
                message = self._outbox.popleft()
            await self.stream.send(message)

    async def _send(self) -> None:
        while True:
            await self._wake_sender.wait()
            self._wake_sender.clear()
            await self._flush()
            if self._theirs is not None and self._data_due:
                self._data_due = False
                number = self._their_number
                blocked = await self.replicator.blocked()
                await self._send_ops(blocked)
                await self._send_entries(blocked)
                if number > self._synced_sent:
                    self._synced_sent = number
                    self._queue({"synced": number})
                await self._flush()
            if not self.live:
                async with self._announcing:  # not while a clock is being worked out
                    self._ended = self._both_caught_up()
                if self._ended:
                    await self._flush()
                    await self.stream.end()
                    return

    def _both_caught_up(self) -> bool:
        """One-shot: we hold what we asked for, sent what the peer's latest clock asked for,
        and the peer says it holds what it asked for: end our direction; the peer ends its own."""
        return (self._caught_up_sent == self._number and self._synced_sent == self._their_number >= 0
                and self._peer_caught_up == self._their_number)

    async def _send_ops(self, blocked: Blocked) -> None:
        ops = await self.replicator.ops_after(self._sent.ids, blocked)
        for first in range(0, len(ops), OPS_PER_MESSAGE):
            part = ops[first:first + OPS_PER_MESSAGE]
            await self.stream.send({"ops": [_b64(raw) for raw in part]})
            self.stats.bytes_out += sum(len(raw) for raw in part)

    async def _send_entries(self, blocked: Blocked) -> None:
        batcher = Batcher()
        for key, head in (await self.replicator.device_heads(list(self._sent.devs), blocked)).items():
            while self._sent.devs.get(key, head.head_seq) < head.head_seq:
                after = self._sent.devs[key]
                page = await self.replicator.page(key, after, PAGE)
                if not page or key not in self._sent.devs:  # nothing more, or the peer dropped the log
                    break
                # Logs are held without holes (ingest extends them in order; purges cut the tail).
                self._sent.devs[key] = max(self._sent.devs[key], after + len(page))
                for batch in batcher.batches(page):
                    await self.stream.send(batch, BodyType.BINARY)
                    self.stats.bytes_out += len(batch)
                    await self._flush()  # acks and clocks between batches, not after the whole log
                self.stats.sent += len(page)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
