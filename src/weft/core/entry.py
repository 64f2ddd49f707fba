"""Entries: the signed, hash-chained headers of a device log.

A header is ``{v, author, device, seq, prev, ts, content_hash, content_size,
expires?}`` plus ``sig``, the device key's Ed25519 signature of the canonical
bytes of the header without ``sig``. The entry id is the SHA-256 of the
canonical bytes of the signed header. Content travels beside the header and
is bound to it only by hash, so it can be dropped (deleted, expired) while the
chain of headers still verifies. docs/protocol/entries.md is the reference.

Verification is split into independent checks so that ingest can run the
expensive one (the signature) on a thread pool in batches and the cheap,
order-dependent ones (chain, device authorization) in the writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from weft.core.content import MAX_CONTENT_BYTES, ContentError, decode_content
from weft.core.encoding import (
    MAX_SAFE_INT,
    b64url,
    canonical,
    decode_canonical_shape,
    from_b64url,
    sha256,
)
from weft.core.ids import entry_id_text, is_did_weft, parse_entry_id
from weft.core.keys import BadSignature, SigningKey, public_key_from_did_key, verify
from weft.errors import EncodingError, EntryRejected, KeyFormatError

__all__ = [
    "MAX_FUTURE_SKEW_MS",
    "MAX_HEADER_BYTES",
    "Entry",
    "Reason",
    "check_chain",
    "check_content",
    "check_content_bytes",
    "check_signature",
    "check_time",
    "decode_entry",
    "sign_entry",
    "verify_entry",
]

VERSION: Final = 1
MAX_HEADER_BYTES: Final = 1024
MAX_FUTURE_SKEW_MS: Final = 10 * 60 * 1000
_REQUIRED: Final = frozenset({"v", "author", "device", "seq", "prev", "ts", "content_hash",
                              "content_size", "sig"})
_ALLOWED: Final = _REQUIRED | {"expires"}


class Reason(StrEnum):
    """Why an entry was refused; the values are stable codes shown to peers and users."""

    MALFORMED = "malformed"
    OVERSIZE = "oversize"
    BAD_SIGNATURE = "bad_signature"
    BROKEN_CHAIN = "broken_chain"
    GAP = "gap"
    CONTENT_MISMATCH = "content_mismatch"
    UNAUTHORIZED_DEVICE = "unauthorized_device"
    REVOKED_DEVICE = "revoked_device"
    FUTURE_TIMESTAMP = "future_timestamp"
    FORK = "fork"
    FORKED_LOG = "forked_log"
    UNKNOWN_IDENTITY = "unknown_identity"
    BLOCKED = "blocked"


def reject(reason: Reason, message: str) -> EntryRejected:
    return EntryRejected(reason.value, f"{reason.value}: {message}")


@dataclass(frozen=True, slots=True)
class Entry:
    """A decoded, well-formed header. Well-formed is not verified: see the check_* functions."""

    raw: bytes
    id: bytes
    author: str
    device: str
    device_key: bytes
    seq: int
    prev: bytes | None
    ts: int
    content_hash: bytes
    content_size: int
    expires: int | None
    sig: bytes

    @property
    def id_text(self) -> str:
        return entry_id_text(self.id)

    def unsigned(self) -> dict[str, Any]:
        header: dict[str, Any] = {
            "v": VERSION,
            "author": self.author,
            "device": self.device,
            "seq": self.seq,
            "prev": entry_id_text(self.prev) if self.prev is not None else None,
            "ts": self.ts,
            "content_hash": b64url(self.content_hash),
            "content_size": self.content_size,
        }
        if self.expires is not None:
            header["expires"] = self.expires
        return header

    def describe(self) -> str:
        """How error messages name this entry."""
        return f"entry {self.id_text} (device {self.device[:20]}…, seq {self.seq})"


def _int(header: dict[str, Any], key: str, low: int, high: int = MAX_SAFE_INT) -> int:
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise reject(Reason.MALFORMED, f"{key!r} must be an integer from {low} to {high}")
    return value


def decode_entry(raw: bytes) -> Entry:
    """Parse signed header bytes; EntryRejected(malformed|oversize) unless well-formed and canonical."""
    if len(raw) > MAX_HEADER_BYTES:
        raise reject(Reason.OVERSIZE, f"header is {len(raw)} bytes; the limit is {MAX_HEADER_BYTES}")
    try:
        header = decode_canonical_shape(raw)
    except EncodingError as exc:
        raise reject(Reason.MALFORMED, f"header is not canonical JSON ({exc})") from None
    keys = set(header)
    if keys - _ALLOWED or _REQUIRED - keys:
        missing, extra = sorted(_REQUIRED - keys), sorted(keys - _ALLOWED)
        raise reject(Reason.MALFORMED, f"header fields wrong (missing {missing}, unknown {extra})")
    if type(header["v"]) is not int or header["v"] != VERSION:  # 1.0 == 1 and True == 1 in Python
        raise reject(Reason.MALFORMED, f"unsupported header version {header['v']!r}")
    author = header["author"]
    if not is_did_weft(author):
        raise reject(Reason.MALFORMED, "'author' is not a did:weft identity")
    try:
        device_key = public_key_from_did_key(header["device"])
        content_hash = from_b64url(header["content_hash"], 32)
        sig = from_b64url(header["sig"], 64)
        prev = parse_entry_id(header["prev"]) if header["prev"] is not None else None
    except (KeyFormatError, EncodingError) as exc:
        raise reject(Reason.MALFORMED, str(exc)) from None
    seq = _int(header, "seq", 1)
    if (seq == 1) != (prev is None):
        raise reject(Reason.MALFORMED, "'prev' must be null exactly when seq is 1")
    ts = _int(header, "ts", 0)
    size = _int(header, "content_size", 0)
    if size > MAX_CONTENT_BYTES:
        raise reject(Reason.OVERSIZE, f"content_size is {size} bytes; the limit is {MAX_CONTENT_BYTES}")
    expires = _int(header, "expires", ts + 1) if "expires" in header else None
    return Entry(raw=raw, id=sha256(raw), author=author, device=header["device"],
                 device_key=device_key, seq=seq, prev=prev, ts=ts, content_hash=content_hash,
                 content_size=size, expires=expires, sig=sig)


def signing_bytes(entry: Entry) -> bytes:
    """The canonical bytes of the header without ``sig``: what the device key signs.

    Cut out of ``raw`` rather than re-encoded: every value is ASCII from a strict
    pattern, so ``,"sig":"…"`` occurs exactly once, and removing it from canonical
    bytes leaves the canonical bytes of the rest.
    """
    start = entry.raw.index(b',"sig":"')
    return entry.raw[:start] + entry.raw[start + 95 :]


def check_signature(entry: Entry) -> None:
    """The device key signed this header. The one expensive check: run it off the event loop."""
    try:
        verify(entry.device_key, signing_bytes(entry), entry.sig)
    except BadSignature:
        raise reject(Reason.BAD_SIGNATURE, f"{entry.describe()}: signature does not verify") from None


def check_content(entry: Entry, content: bytes) -> dict[str, Any]:
    """The content matches the header's hash and size and is valid content; returns it decoded."""
    return check_content_bytes(entry.describe, entry.content_hash, entry.content_size, content)


def check_content_bytes(describe: Callable[[], str], content_hash: bytes, content_size: int,
                        content: bytes) -> dict[str, Any]:
    """``content`` has this hash and size and is valid content (signed and foreign entries alike).
    ``describe`` names the entry in a refusal: called only then (naming costs a base32 encoding)."""
    if len(content) != content_size or sha256(content) != content_hash:
        raise reject(Reason.CONTENT_MISMATCH, f"{describe()}: content does not match content_hash")
    try:
        return decode_content(content)
    except (ContentError, EncodingError) as exc:
        raise reject(Reason.MALFORMED, f"{describe()}: content is invalid ({exc})") from None


def check_time(entry: Entry, now_ms: int) -> None:
    if entry.ts > now_ms + MAX_FUTURE_SKEW_MS:
        raise reject(Reason.FUTURE_TIMESTAMP,
                     f"{entry.describe()}: timestamp is {(entry.ts - now_ms) // 1000} s in the future")


def check_chain(entry: Entry, head_seq: int, head_id: bytes | None) -> None:
    """``entry`` extends a log whose last held entry is (head_seq, head_id); head_seq 0 is empty.

    Entries at or below the head are duplicates or forks; the caller, which can
    look up the held id at that seq, decides which.
    """
    if entry.seq > head_seq + 1:
        raise reject(Reason.GAP, f"{entry.describe()}: expected seq {head_seq + 1}, got {entry.seq}")
    if entry.seq == head_seq + 1 and entry.prev != head_id:
        raise reject(Reason.BROKEN_CHAIN, f"{entry.describe()}: 'prev' is not the id of seq {head_seq}")


def sign_entry(key: SigningKey, *, author: str, seq: int, prev: bytes | None, ts: int,
               content: bytes, expires: int | None = None) -> Entry:
    """Make and sign a header for ``content`` (already canonical bytes)."""
    header: dict[str, Any] = {
        "v": VERSION,
        "author": author,
        "device": key.did,
        "seq": seq,
        "prev": entry_id_text(prev) if prev is not None else None,
        "ts": ts,
        "content_hash": b64url(sha256(content)),
        "content_size": len(content),
    }
    if expires is not None:
        header["expires"] = expires
    header["sig"] = b64url(key.sign(canonical(header)))
    return decode_entry(canonical(header))


def verify_entry(raw: bytes, content: bytes | None, *, head_seq: int, head_id: bytes | None,
                 now_ms: int) -> Entry:
    """Every check that needs no identity state, in the order ingest runs them.

    Device authorization needs the identity log: see ``weft.core.identity.check_device``.
    """
    entry = decode_entry(raw)
    check_time(entry, now_ms)
    check_signature(entry)
    if content is not None:
        check_content(entry, content)
    check_chain(entry, head_seq, head_id)
    return entry
