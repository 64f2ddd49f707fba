"""Foreign entries: what other networks said, held as entries so that one path folds it.

An ActivityPub actor has no device key and signs nothing weft can check later: a post
from Mastodon is trusted because its delivery carried a verified HTTP signature of its
actor, or because it was fetched from its origin. The federation face turns each such
activity into an entry of weft content (post, edit, delete, like, boost, follow, ...)
with a *foreign header* in place of a signed one, and offers it to ingest like any other
entry, so timelines, threads, notifications, counts and search never ask where a post
came from. docs/protocol/foreign-entries.md is the reference; decision 0007 says why.

A foreign header is canonical JSON::

    {"v": 1, "network": "activitypub", "author": <actor IRI>, "origin": <IRI>,
     "via": "signature" | "fetch", "ts": <ms>, "content_hash": <b64url>,
     "content_size": <n>, "expires"?: <ms>}

``origin`` is the IRI the content came from (an object for a post, an activity for a
like, follow, undo...): one origin is stored once, which makes inboxes idempotent. The
entry id is the SHA-256 of the header bytes, like a signed entry's, and cannot equal
one (a signed header has a ``sig``; this one a ``network``). Foreign entries are local
knowledge: a node never gossips them, since no peer could check them; peers learn the
same things from the origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from weft.core.content import MAX_CONTENT_BYTES, encode_content
from weft.core.encoding import (
    b64url,
    canonical,
    check_values,
    decode_canonical_shape,
    from_b64url,
    sha256,
)
from weft.core.entry import MAX_FUTURE_SKEW_MS, Reason, check_content_bytes, reject
from weft.core.ids import MAX_IRI_CHARS, entry_id_text, is_actor_iri
from weft.errors import EncodingError

__all__ = [
    "FOREIGN_DEVICE_PREFIX",
    "MAX_IRI_CHARS",
    "ForeignEntry",
    "Via",
    "check_foreign_content",
    "check_foreign_time",
    "decode_foreign",
    "foreign_device",
    "is_actor_iri",
    "make_foreign",
]

VERSION: Final = 1
NETWORK: Final = "activitypub"
MAX_FOREIGN_HEADER_BYTES: Final = 3 * MAX_IRI_CHARS + 400
# The device row a foreign author's entries are filed under (never a did:key, so never served to peers).
FOREIGN_DEVICE_PREFIX: Final = "foreign:"
_KEYS: Final = frozenset({"v", "network", "author", "origin", "via", "ts", "content_hash", "content_size"})

Via = Literal["signature", "fetch"]


def foreign_device(author: str) -> str:
    """The device key a foreign author's entries are stored under."""
    return FOREIGN_DEVICE_PREFIX + author


@dataclass(frozen=True)
class ForeignEntry:
    """A decoded foreign header (and the facts ingest's folds read: id, ts, expires)."""

    raw: bytes
    id: bytes
    author: str
    origin: str
    via: Via
    ts: int
    content_hash: bytes
    content_size: int
    expires: int | None

    @property
    def id_text(self) -> str:
        return entry_id_text(self.id)

    @property
    def device(self) -> str:
        return foreign_device(self.author)

    def describe(self) -> str:
        return f"foreign entry {self.id_text} (from {self.origin[:80]})"


def make_foreign(content: dict[str, Any], *, author: str, origin: str, via: Via, ts: int,
                 expires: int | None = None) -> tuple[ForeignEntry, bytes]:
    """The foreign header and canonical content bytes for ``content`` (validated as weft content)."""
    data = encode_content(content)
    header: dict[str, Any] = {"v": VERSION, "network": NETWORK, "author": author, "origin": origin, "via": via,
                              "ts": ts, "content_hash": b64url(sha256(data)), "content_size": len(data)}
    if expires is not None:
        header["expires"] = expires
    # What decode_foreign(raw) checks, but of the header in hand: the bytes were just made
    # of it by canonical(), so reading them back would give it again.
    raw = canonical(header)
    _check_size(raw)
    return _foreign_entry(raw, header), data


def decode_foreign(raw: bytes) -> ForeignEntry:
    """Parse a foreign header; EntryRejected(malformed|oversize) unless well-formed and canonical."""
    _check_size(raw)
    try:
        header = decode_canonical_shape(raw)   # the bytes are those of their own encoding:
        check_values(header)                   # what canonical() adds is the per-value checks
    except EncodingError as exc:
        raise reject(Reason.MALFORMED, f"foreign header is not canonical JSON ({exc})") from None
    return _foreign_entry(raw, header)


def _check_size(raw: bytes) -> None:
    if len(raw) > MAX_FOREIGN_HEADER_BYTES:
        raise reject(Reason.OVERSIZE, f"foreign header is {len(raw)} bytes; the limit is {MAX_FOREIGN_HEADER_BYTES}")


def _foreign_entry(raw: bytes, header: dict[str, Any]) -> ForeignEntry:
    """The entry of a header whose bytes ``raw`` are its canonical encoding, once its fields pass."""
    keys = set(header)
    if keys - _KEYS - {"expires"} or _KEYS - keys:
        raise reject(Reason.MALFORMED, f"foreign header fields wrong (missing {sorted(_KEYS - keys)}, "
                     f"unknown {sorted(keys - _KEYS - {'expires'})})")
    if header["v"] != VERSION or type(header["v"]) is not int or header["network"] != NETWORK:
        raise reject(Reason.MALFORMED, f"unsupported foreign header (v {header['v']!r}, network {header['network']!r})")
    for key in ("author", "origin"):
        if not is_actor_iri(header[key]):
            raise reject(Reason.MALFORMED, f"foreign header: {key!r} is not an http(s) IRI")
    if header["via"] not in ("signature", "fetch"):
        raise reject(Reason.MALFORMED, "foreign header: 'via' must be 'signature' or 'fetch'")
    ints = {key: header.get(key) for key in ("ts", "content_size", "expires") if key in header}
    if any(type(value) is not int or value < 0 for value in ints.values()):
        raise reject(Reason.MALFORMED, "foreign header: ts, content_size and expires are non-negative integers")
    if header["content_size"] > MAX_CONTENT_BYTES:
        raise reject(Reason.OVERSIZE, f"content_size is {header['content_size']}; the limit is {MAX_CONTENT_BYTES}")
    if "expires" in header and header["expires"] <= header["ts"]:
        raise reject(Reason.MALFORMED, "foreign header: 'expires' must be after 'ts'")
    try:
        content_hash = from_b64url(header["content_hash"], 32)
    except EncodingError as exc:
        raise reject(Reason.MALFORMED, f"foreign header: {exc}") from None
    return ForeignEntry(raw=raw, id=sha256(raw), author=header["author"], origin=header["origin"],
                        via=header["via"], ts=header["ts"], content_hash=content_hash,
                        content_size=header["content_size"], expires=header.get("expires"))


def check_foreign_time(entry: ForeignEntry, now_ms: int) -> None:
    if entry.ts > now_ms + MAX_FUTURE_SKEW_MS:
        raise reject(Reason.FUTURE_TIMESTAMP, f"{entry.describe()}: timestamp is "
                     f"{(entry.ts - now_ms) // 1000} s in the future")


def check_foreign_content(entry: ForeignEntry, content: bytes) -> dict[str, Any]:
    """The content matches the header and is valid weft content; returns it decoded."""
    return check_content_bytes(entry.describe, entry.content_hash, entry.content_size, content)
