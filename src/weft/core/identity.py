"""Self-certifying identities: the identity log and its rules.

An identity is the chain of signed operations that starts with a
self-signed genesis; its DID is derived from the genesis bytes, so it needs no
registry. Every operation carries the whole new state (ranked rotation keys,
devices, revocations, handles, services) and is signed by a rotation key of
the state before it. A higher-ranked key may replace the operations that a
lower-ranked key made within the recovery window (72 hours, measured on this
node's clock from when it first held the replaced operation); after that,
history is fixed. docs/protocol/identity.md is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from weft.core.encoding import b64url, canonical, decode_canonical, from_b64url, sha256
from weft.core.entry import MAX_FUTURE_SKEW_MS, Entry, Reason, reject
from weft.core.ids import did_from_genesis, entry_id_text, parse_entry_id
from weft.core.keys import BadSignature, SigningKey, public_key_from_did_key, verify
from weft.errors import EncodingError, IdentityOpRejected, KeyFormatError

__all__ = [
    "RECOVERY_WINDOW_MS",
    "Accepted",
    "HeldOp",
    "IdentityLog",
    "IdentityOp",
    "IdentityState",
    "check_device",
    "decode_op",
    "next_state",
    "sign_op",
]

VERSION: Final = 1
RECOVERY_WINDOW_MS: Final = 72 * 3600 * 1000
MAX_OP_BYTES: Final = 16 * 1024
MAX_ROTATION_KEYS: Final = 8
MAX_DEVICES: Final = 64
_FIELDS: Final = frozenset({"v", "prev", "ts", "rotation_keys", "devices", "revoked", "handles",
                            "services", "signer", "sig"})


def _rejected(code: str, message: str) -> IdentityOpRejected:
    return IdentityOpRejected(code, f"{code}: {message}")


@dataclass(frozen=True)
class IdentityState:
    """What an identity is after some operation: the keys, devices and names it declares."""

    did: str
    head: bytes
    length: int
    ts: int
    rotation_keys: tuple[str, ...]
    devices: dict[str, dict[str, Any]]
    revoked: dict[str, int]
    handles: tuple[str, ...]
    services: dict[str, str]

    def rank(self, key: str) -> int | None:
        """0 is the highest rank; None if ``key`` is not a rotation key of this state."""
        try:
            return self.rotation_keys.index(key)
        except ValueError:
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "head": entry_id_text(self.head),
            "length": self.length,
            "ts": self.ts,
            "rotation_keys": list(self.rotation_keys),
            "devices": self.devices,
            "revoked": self.revoked,
            "handles": list(self.handles),
            "services": self.services,
        }


@dataclass(frozen=True)
class IdentityOp:
    """A decoded, well-formed identity operation (not yet validated against a state)."""

    raw: bytes
    id: bytes
    body: dict[str, Any]

    @property
    def prev(self) -> bytes | None:
        prev = self.body["prev"]
        return parse_entry_id(prev) if prev is not None else None

    @property
    def signer(self) -> str:
        signer: str = self.body["signer"]
        return signer

    @property
    def ts(self) -> int:
        ts: int = self.body["ts"]
        return ts

    @property
    def id_text(self) -> str:
        return entry_id_text(self.id)


def _check_shape(body: dict[str, Any]) -> None:
    if set(body) != _FIELDS:
        raise _rejected("malformed", f"fields must be exactly {sorted(_FIELDS)}")
    if body["v"] != VERSION or isinstance(body["v"], bool):
        raise _rejected("malformed", f"unsupported version {body['v']!r}")
    ts = body["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0:
        raise _rejected("malformed", "'ts' must be a non-negative integer")
    keys = body["rotation_keys"]
    if (not isinstance(keys, list) or not 1 <= len(keys) <= MAX_ROTATION_KEYS
            or not all(isinstance(key, str) for key in keys) or len(set(keys)) != len(keys)):
        raise _rejected("malformed", f"'rotation_keys' must list 1 to {MAX_ROTATION_KEYS} distinct keys")
    devices, revoked = body["devices"], body["revoked"]
    if not isinstance(devices, dict) or len(devices) > MAX_DEVICES:
        raise _rejected("malformed", f"'devices' must map at most {MAX_DEVICES} keys")
    if not isinstance(revoked, dict):
        raise _rejected("malformed", "'revoked' must map device keys to their last seq")
    try:
        for key in [*keys, *devices, *revoked, body["signer"]]:
            public_key_from_did_key(key)
        if body["prev"] is not None:
            parse_entry_id(body["prev"])
        from_b64url(body["sig"], 64)
    except (KeyFormatError, EncodingError, TypeError) as exc:
        raise _rejected("malformed", str(exc)) from None
    for info in devices.values():
        if (not isinstance(info, dict) or set(info) != {"name", "added"}
                or not isinstance(info["name"], str) or len(info["name"]) > 100
                or isinstance(info["added"], bool) or not isinstance(info["added"], int)):
            raise _rejected("malformed", "each device is {'name': text, 'added': ms}")
    for last in revoked.values():
        if isinstance(last, bool) or not isinstance(last, int) or last < 0:
            raise _rejected("malformed", "a revocation names the last accepted seq (>= 0)")
    if set(devices) & set(revoked):
        raise _rejected("malformed", "a device cannot be both authorized and revoked")
    handles, services = body["handles"], body["services"]
    if not isinstance(handles, list) or len(handles) > 16 or not all(
            isinstance(h, str) and 0 < len(h) <= 253 for h in handles):
        raise _rejected("malformed", "'handles' must be a list of at most 16 names")
    if not isinstance(services, dict) or len(services) > 16 or not all(
            isinstance(v, str) and len(v) <= 2000 for v in services.values()):
        raise _rejected("malformed", "'services' must map at most 16 names to URLs")


def decode_op(raw: bytes) -> IdentityOp:
    """Parse signed operation bytes; IdentityOpRejected('malformed') unless well-formed."""
    if len(raw) > MAX_OP_BYTES:
        raise _rejected("oversize", f"operation is {len(raw)} bytes; the limit is {MAX_OP_BYTES}")
    try:
        body = decode_canonical(raw)
    except EncodingError as exc:
        raise _rejected("malformed", f"not canonical JSON ({exc})") from None
    _check_shape(body)
    return IdentityOp(raw=raw, id=sha256(raw), body=body)


def sign_op(key: SigningKey, *, prev: bytes | None, ts: int, rotation_keys: list[str],
            devices: dict[str, dict[str, Any]], revoked: dict[str, int] | None = None,
            handles: list[str] | None = None, services: dict[str, str] | None = None) -> IdentityOp:
    """Make an operation carrying the whole new state, signed by ``key``."""
    body: dict[str, Any] = {
        "v": VERSION,
        "prev": entry_id_text(prev) if prev is not None else None,
        "ts": ts,
        "rotation_keys": rotation_keys,
        "devices": devices,
        "revoked": revoked or {},
        "handles": handles or [],
        "services": services or {},
        "signer": key.did,
    }
    body["sig"] = b64url(key.sign(canonical(body)))
    return decode_op(canonical(body))


def _verify_sig(op: IdentityOp) -> None:
    unsigned = {k: v for k, v in op.body.items() if k != "sig"}
    try:
        verify(public_key_from_did_key(op.signer), canonical(unsigned), from_b64url(op.body["sig"], 64))
    except BadSignature:
        raise _rejected("bad_signature", f"operation {op.id_text}: signature does not verify") from None


def next_state(state: IdentityState | None, op: IdentityOp, now_ms: int) -> IdentityState:
    """The state after ``op``, or IdentityOpRejected if ``op`` may not follow ``state``."""
    return _next_state(state, op, now_ms, signature_checked=False)


def _next_state(state: IdentityState | None, op: IdentityOp, now_ms: int, *,
                signature_checked: bool) -> IdentityState:
    body = op.body
    if op.ts > now_ms + MAX_FUTURE_SKEW_MS:
        raise _rejected("future_timestamp", f"operation {op.id_text} is dated in the future")
    if state is None:
        if op.prev is not None:
            raise _rejected("not_genesis", "the first operation must have prev null")
        if op.signer not in body["rotation_keys"]:
            raise _rejected("unauthorized_signer", "genesis must be signed by one of its own rotation keys")
        if body["revoked"]:
            raise _rejected("malformed", "genesis cannot revoke devices")
        _verify_sig(op)
        did = did_from_genesis(op.raw)
    else:
        if op.prev != state.head:
            raise _rejected("broken_chain", f"operation {op.id_text} does not follow the head {entry_id_text(state.head)}")
        if state.rank(op.signer) is None:
            raise _rejected("unauthorized_signer", f"{op.signer[:24]}… is not a rotation key of {state.did}")
        if op.ts < state.ts:
            raise _rejected("time_order", "an operation cannot be dated before the one it follows")
        for device in state.devices:
            if device not in body["devices"] and device not in body["revoked"]:
                raise _rejected("dropped_device", f"device {device[:24]}… must be kept or revoked, not dropped")
        for device, last in state.revoked.items():
            if device in body["devices"]:
                raise _rejected("revoked_device", f"revoked device {device[:24]}… cannot be authorized again")
            if body["revoked"].get(device, -1) > last or device not in body["revoked"]:
                raise _rejected("revocation_changed", "a revocation cannot be lifted or extended")
        for device in body["revoked"]:
            if device not in state.devices and device not in state.revoked:
                # Otherwise "revoked after seq N" would vouch for N entries of a key never authorized.
                raise _rejected("unknown_device", f"device {device[:24]}… was never authorized, so it cannot be revoked")
        if not signature_checked:
            _verify_sig(op)
        did = state.did
    return IdentityState(
        did=did, head=op.id, length=(state.length if state else 0) + 1, ts=op.ts,
        rotation_keys=tuple(body["rotation_keys"]), devices=body["devices"],
        revoked=body["revoked"], handles=tuple(body["handles"]), services=body["services"],
    )


@dataclass(frozen=True)
class HeldOp:
    """An operation as this node holds it: with the time this node first received it."""

    op: IdentityOp
    received_at: int


@dataclass
class Accepted:
    """What ``IdentityLog.accept`` did: appended or replaced, and which operations it superseded."""

    appended: bool
    duplicate: bool = False
    superseded: list[HeldOp] = field(default_factory=list)


class IdentityLog:
    """An identity's operations in order, with the fork rule of the recovery window."""

    def __init__(self) -> None:
        self.ops: list[HeldOp] = []
        self._states: list[IdentityState] = []

    @classmethod
    def replay(cls, held: list[HeldOp], now_ms: int) -> IdentityLog:
        """Rebuild from stored operations (in order), checking every one again."""
        log = cls()
        for item in held:
            log.accept(item.op, item.received_at if item.received_at else now_ms, now_ms=now_ms)
        return log

    @property
    def state(self) -> IdentityState:
        if not self._states:
            raise _rejected("empty", "identity log is empty")
        return self._states[-1]

    @property
    def did(self) -> str:
        return self.state.did

    @property
    def states(self) -> list[IdentityState]:
        """The state after each operation, genesis first."""
        return list(self._states)

    def accept(self, op: IdentityOp, received_at: int, *, now_ms: int) -> Accepted:
        """Take one operation: extend the head, ignore a duplicate, or resolve a fork."""
        index = next((i for i, held in enumerate(self.ops) if held.op.id == op.id), None)
        if index is not None:
            return Accepted(appended=False, duplicate=True)
        if not self.ops or op.prev == self.ops[-1].op.id:
            before = self._states[-1] if self._states else None
            self._states.append(next_state(before, op, now_ms))
            self.ops.append(HeldOp(op, received_at))
            return Accepted(appended=True)
        if op.prev is None:
            raise _rejected("wrong_identity", "a second genesis is a different identity")
        parent = next((i for i, held in enumerate(self.ops) if held.op.id == op.prev), None)
        if parent is None:
            raise _rejected("unknown_prev", f"operation {op.id_text} follows an operation this node does not hold")
        sibling = self.ops[parent + 1]
        base = self._states[parent]
        challenger_rank, sibling_rank = base.rank(op.signer), base.rank(sibling.op.signer)
        if challenger_rank is None:
            raise _rejected("unauthorized_signer", f"{op.signer[:24]}… is not a rotation key of {base.did}")
        # Verify before judging: fork_rejected and recovery_window_closed tell a peer that a
        # rotation key tried to rewrite history, which an unsigned forgery must not be able to claim.
        _verify_sig(op)
        if sibling_rank is None or challenger_rank >= sibling_rank:
            raise _rejected("fork_rejected", f"operation {op.id_text} forks the log but its key does not outrank "
                            f"the key of {sibling.op.id_text}")
        if received_at - sibling.received_at >= RECOVERY_WINDOW_MS:
            raise _rejected("recovery_window_closed", f"operation {sibling.op.id_text} was held for more than "
                            "72 hours; history before it is fixed")
        new_state = _next_state(base, op, now_ms, signature_checked=True)
        superseded = self.ops[parent + 1 :]
        del self.ops[parent + 1 :]
        del self._states[parent + 1 :]
        self.ops.append(HeldOp(op, received_at))
        self._states.append(new_state)
        return Accepted(appended=True, superseded=superseded)


def check_device(entry: Entry, state: IdentityState | None) -> None:
    """The identity authorizes the entry's device for this seq; EntryRejected otherwise."""
    if state is None:
        raise reject(Reason.UNKNOWN_IDENTITY, f"{entry.describe()}: this node does not hold the identity log of {entry.author}")
    if entry.author != state.did:
        raise reject(Reason.UNAUTHORIZED_DEVICE, f"{entry.describe()}: author is not {state.did}")
    if entry.device in state.devices:
        return
    last = state.revoked.get(entry.device)
    if last is None:
        raise reject(Reason.UNAUTHORIZED_DEVICE, f"{entry.describe()}: device is not authorized by {entry.author}")
    if entry.seq > last:
        raise reject(Reason.REVOKED_DEVICE, f"{entry.describe()}: device was revoked after seq {last}")
