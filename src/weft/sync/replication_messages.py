"""What travels on the ``["weft", "replicate"]`` stream, read and checked, without I/O.

docs/protocol/replication.md sections 2 to 4. The session (``weft.sync.replication``) moves
these; here is what they mean and what a peer may not do with them:

- ``ClockMessage``: the logs a side wants and how far it holds them. ``n`` numbers a side's
  clocks within its ``epoch`` (a random name for what one node remembers of one peer), across
  sessions. A full clock replaces what the peer knew; a partial one changes it, and names
  logs no longer wanted under ``drop`` (an unfollow, a block). The first clock of a session
  is partial when we remember the peer: ``since`` is the last clock we sent it, and the peer
  applies the change only if that is also the last it applied from us; otherwise it answers
  ``{"resend": n}`` and gets a full clock. So a reconnect announces only the logs that
  changed, and a peer that forgot us (it restarted) or missed a clock costs one round trip.
- ``Ack``: what the receiver verified and committed, so that the sender's memory of the
  peer's positions never runs ahead of what the peer holds.
- ``PeerMemory``: what one node keeps of one peer between sessions.
- ``Intake``: the checks a batch passes before ingest sees it (the log was asked for, a
  log's entries come in seq order, bytes per log), and what ingest's outcomes mean for
  the peer: a fault disconnects it; another refusal (a block, a revoked device) stalls
  that log for the session, so that the entries after it are not taken for gaps.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from weft.core.identity import decode_op
from weft.core.ids import did_from_genesis, entry_id_text, parse_entry_id
from weft.errors import IdentityOpRejected, WeftError
from weft.ingest import Outcome
from weft.sync.batches import WireEntry

__all__ = [
    "PEER_FAULTS",
    "Ack",
    "ClockMessage",
    "Intake",
    "PeerMemory",
    "PeerMisbehaved",
    "Positions",
    "Screened",
    "Settled",
    "genesis_did",
    "read_number",
    "read_ops",
]

# Refusals that only a broken or hostile peer causes: it signed, ordered or sized the entry.
PEER_FAULTS = frozenset({"malformed", "oversize", "bad_signature", "broken_chain", "gap",
                         "content_mismatch", "fork", "unauthorized_device"})


class PeerMisbehaved(WeftError):
    """The peer broke the protocol or sent entries only a broken or hostile peer sends."""


@dataclass
class Positions:
    """Logs and how far they are held: identity DID -> id of its chain's head (None: nothing),
    device did:key -> seq (0: nothing)."""

    ids: dict[str, bytes | None] = field(default_factory=dict)
    devs: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids) + len(self.devs)

    def copy(self) -> Positions:
        return Positions(dict(self.ids), dict(self.devs))

    def apply(self, clock: ClockMessage) -> None:
        """Take a partial clock: its logs at their positions, its dropped logs gone."""
        self.ids.update(clock.changes.ids)
        self.devs.update(clock.changes.devs)
        for did in clock.dropped_ids:
            self.ids.pop(did, None)
        for key in clock.dropped_devs:
            self.devs.pop(key, None)

    def changes_to(self, wanted: Positions, *, positions: bool) -> tuple[Positions, frozenset[str], frozenset[str]]:
        """What to announce to a peer that knows ``self`` so that it knows ``wanted``:
        new logs (and, if ``positions``, logs held further or less far), and dropped logs."""
        changed = Positions(
            {did: head for did, head in wanted.ids.items()
             if did not in self.ids or (positions and self.ids[did] != head)},
            {key: seq for key, seq in wanted.devs.items()
             if key not in self.devs or (positions and self.devs[key] != seq)})
        return (changed, frozenset(self.ids.keys() - wanted.ids.keys()),
                frozenset(self.devs.keys() - wanted.devs.keys()))


@dataclass(frozen=True)
class ClockMessage:
    number: int
    epoch: str
    full: bool
    changes: Positions
    dropped_ids: frozenset[str] = frozenset()
    dropped_devs: frozenset[str] = frozenset()
    since: int | None = None

    @property
    def logs(self) -> int:
        """How many logs the message names."""
        return len(self.changes) + len(self.dropped_ids) + len(self.dropped_devs)

    def to_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "clock": {"ids": {did: entry_id_text(head) if head else "" for did, head in self.changes.ids.items()},
                      "devs": self.changes.devs},
            "n": self.number, "epoch": self.epoch, "full": self.full}
        if self.dropped_ids or self.dropped_devs:
            message["drop"] = {"ids": sorted(self.dropped_ids), "devs": sorted(self.dropped_devs)}
        if self.since is not None:
            message["since"] = self.since
        return message

    @classmethod
    def from_json(cls, message: dict[str, Any], max_logs: int) -> ClockMessage:
        """The clock in ``message``; PeerMisbehaved if it is malformed or names more than ``max_logs`` logs."""
        try:
            clock, drop = message["clock"], message.get("drop", {"ids": [], "devs": []})
            ids_in, devs_in = _mapping(clock["ids"]), _mapping(clock["devs"])
            drop_ids, drop_devs = _strings(drop["ids"]), _strings(drop["devs"])
            if len(ids_in) + len(devs_in) + len(drop_ids) + len(drop_devs) > max_logs:
                raise PeerMisbehaved(f"a clock naming more than {max_logs} logs (the limit)")
            ids = {did: parse_entry_id(head) if head else None for did, head in ids_in.items()}
            devs = {key: _count(seq) for key, seq in devs_in.items()}
            since = message.get("since")
            return cls(_count(message["n"]), _text(message["epoch"]), message.get("full") is True,
                       Positions(ids, devs), drop_ids, drop_devs, None if since is None else _count(since))
        except (KeyError, TypeError, ValueError, WeftError) as exc:
            if isinstance(exc, PeerMisbehaved):
                raise
            raise PeerMisbehaved(f"malformed clock: {str(exc)[:200]}") from None


@dataclass(frozen=True)
class Ack:
    """Positions the receiver has verified and committed of logs the sender sent it."""

    ids: dict[str, bytes]
    devs: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"ack": {"ids": {did: entry_id_text(head) for did, head in self.ids.items()}, "devs": self.devs}}

    @classmethod
    def from_json(cls, message: dict[str, Any]) -> Ack:
        try:
            ack = message["ack"]
            return cls({did: parse_entry_id(_text(head)) for did, head in _mapping(ack["ids"]).items()},
                       {key: _count(seq) for key, seq in _mapping(ack["devs"]).items()})
        except (KeyError, TypeError, ValueError, WeftError):
            raise PeerMisbehaved(f"malformed ack: {str(message)[:200]}") from None


def read_number(message: dict[str, Any], key: str) -> int:
    try:
        return _count(message[key])
    except (KeyError, TypeError, ValueError):
        raise PeerMisbehaved(f"malformed {key} message: {str(message)[:200]}") from None


def read_ops(message: dict[str, Any]) -> list[bytes]:
    ops = message.get("ops")
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise PeerMisbehaved(f"malformed ops message: {str(message)[:200]}")
    try:
        return [base64.b64decode(op, validate=True) for op in ops]
    except (binascii.Error, ValueError):
        raise PeerMisbehaved("an identity operation that is not base64") from None


def genesis_did(raw: bytes) -> str | None:
    """The DID a genesis operation creates; None for any other operation (or no operation)."""
    try:
        op = decode_op(raw)
    except IdentityOpRejected:
        return None
    return did_from_genesis(raw) if op.prev is None else None


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, not {type(value).__name__}")
    return value


def _strings(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return frozenset(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a string")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a count, not {str(value)[:40]!r}")
    return value


@dataclass
class PeerMemory:
    """What one node keeps of one peer after a session, so the next one announces only changes."""

    epoch: str                                              # names our clocks to this peer
    number: int = 0                                         # the last clock we sent it
    told: Positions = field(default_factory=Positions)      # what it knows we want, and hold
    their_epoch: str | None = None
    their_number: int = -1                                  # the last of its clocks we applied
    theirs: Positions = field(default_factory=Positions)    # what it wants, and holds as far as we know

    @classmethod
    def new(cls, random: Callable[[int], bytes] = os.urandom) -> PeerMemory:
        return cls(random(8).hex())


# -- entries from the peer ---------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """The part of a batch to offer to ingest, each offer's (device, seq), and why the rest
    of the batch was refused, if it was."""

    offers: list[WireEntry]
    logs: list[tuple[str, int]]
    fault: str | None = None


@dataclass(frozen=True)
class Settled:
    stored: int
    acks: dict[str, int]
    fault: str | None = None


class Intake:
    """One session's checks on what the peer sends, around ingest's own."""

    def __init__(self, bytes_per_log: int) -> None:
        self.bytes_per_log = bytes_per_log
        self.log_bytes: dict[str, int] = {}
        self.stalled: dict[str, str] = {}       # device -> why ingest refused an entry of it

    def screen(self, batch: Sequence[WireEntry], wanted: Container[str], dropped: Container[str]) -> Screened:
        """Offers up to the first entry that breaks a rule; entries of logs we stopped
        wanting (they may have been in flight) or that are stalled are skipped."""
        offers: list[WireEntry] = []
        logs: list[tuple[str, int]] = []
        last: dict[str, int] = {}

        def refuse(why: str) -> Screened:
            return Screened(offers, logs, why)

        for index, item in enumerate(batch):
            named = _device_and_seq(item.header)
            if named is None:
                return refuse(f"malformed entry header (entry {index} of a batch)")
            device, seq = named
            if device in dropped or device in self.stalled:
                continue
            if device not in wanted:
                return refuse(f"sent log {device} that we did not ask for")
            if device in last and seq != last[device] + 1:
                return refuse(f"reordered: {device} seq {seq} right after seq {last[device]} in one batch")
            last[device] = seq
            held = self.log_bytes.get(device, 0) + len(item.header) + len(item.content or b"")
            if held > self.bytes_per_log:
                return refuse(f"sent more than {self.bytes_per_log} bytes of log {device} in one session")
            self.log_bytes[device] = held
            offers.append(item)
            logs.append(named)
        return Screened(offers, logs)

    def settle(self, logs: Sequence[tuple[str, int]], outcomes: Sequence[Outcome]) -> Settled:
        """What ingest made of screened offers: how many were new, what to acknowledge, a fault."""
        acks: dict[str, int] = {}
        fault: str | None = None
        for (device, seq), outcome in zip(logs, outcomes, strict=True):
            if device in self.stalled:
                continue  # after a refusal that is not the peer's fault, the rest of the log is its consequence
            if outcome.ok:
                acks[device] = seq
            elif outcome.reason in PEER_FAULTS:
                fault = fault or (outcome.message or f"sent an entry refused as {outcome.reason}")
            else:
                self.stalled[device] = outcome.message or str(outcome.reason)
        return Settled(sum(outcome.status == "stored" for outcome in outcomes), acks, fault)


def _device_and_seq(header: bytes) -> tuple[str, int] | None:
    """The device and seq a header names (ingest checks everything else)."""
    try:
        fields = orjson.loads(header)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, dict):
        return None
    device, seq = fields.get("device"), fields.get("seq")
    if not isinstance(device, str) or not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return None
    return device, seq
