"""Blob records: the images an archive carries, after its entries, in parts of bounded size.

A blob of ``N`` bytes is ``ceil(N / BLOB_PART_BYTES)`` consecutive lines::

    {"blob":HEX,"bytes":N,"data":BASE64URL,"part":I}

``I`` counts from 1; every part but the last carries exactly ``BLOB_PART_BYTES`` bytes and
the last the rest, so a blob has one encoding and every line stays under the archive's
line limit whatever the image's size. ``BlobRecords`` checks them one line at a time,
holding a running hash and a count, never the bytes (docs/protocol/archive.md, section 1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from weft.core.blob_names import is_blob_digest
from weft.core.encoding import b64url, canonical, decode_canonical, from_b64url
from weft.errors import ArchiveError, EncodingError

__all__ = [
    "BLOB_PART_BYTES",
    "MAX_BLOB_BYTES",
    "ArchivedBlob",
    "BlobPart",
    "BlobRecords",
    "blob_part_line",
    "decode_blob_part",
    "part_count",
]

# 48 KiB: 64 KiB of base64url, so a part line fits the limit entry lines already have.
BLOB_PART_BYTES: Final = 48 * 1024
# Uploads are refused past 16 MiB before processing and re-encoded smaller; an animation
# may come out larger. Past this a record is not an image this node would have made.
MAX_BLOB_BYTES: Final = 64 * 1024 * 1024
BLOB_PREFIX: Final = b'{"blob":'
_KEYS: Final = frozenset({"blob", "bytes", "data", "part"})


def part_count(size: int) -> int:
    """How many part lines a blob of ``size`` bytes takes."""
    return -(-size // BLOB_PART_BYTES)


def blob_part_line(digest: str, size: int, part: int, data: bytes) -> bytes:
    """The line (with its ``\\n``) for part ``part`` (from 1) of the blob ``digest``."""
    return canonical({"blob": digest, "bytes": size, "data": b64url(data), "part": part}) + b"\n"


@dataclass(frozen=True)
class BlobPart:
    """One decoded part line."""

    digest: str
    size: int
    part: int
    data: bytes


def decode_blob_part(line: bytes) -> BlobPart:
    """Decode a part line's fields (with or without its ``\\n``); EncodingError if malformed.

    Checks the record's own shape only; whether the part fits its blob is ``BlobRecords``'s.
    """
    record = decode_canonical(line[:-1] if line.endswith(b"\n") else line)
    if set(record) != _KEYS:
        raise EncodingError(f"a blob record has exactly the fields {sorted(_KEYS)}")
    digest, size, part = record["blob"], record["bytes"], record["part"]
    if not is_blob_digest(digest):
        raise EncodingError("'blob' is not a sha256 hex digest")
    for name, value in (("bytes", size), ("part", part)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise EncodingError(f"{name!r} must be a positive integer")
    if not isinstance(record["data"], str):
        raise EncodingError("'data' must be base64url text")
    return BlobPart(digest, size, part, from_b64url(record["data"]))


@dataclass
class ArchivedBlob:
    """A blob the archive carries, verified: where its parts start and how large it is."""

    digest: str
    first_line: int
    size: int


@dataclass
class _Open:
    """The blob whose parts are being read."""

    digest: str
    size: int
    first_line: int
    received: int = 0
    parts: int = 0
    hash: hashlib._Hash = field(default_factory=hashlib.sha256)


class BlobRecords:
    """The blob part of an ``ArchiveReader``: which blobs the entries name, and their records.

    ``name`` is told the digests each entry's content names; ``feed`` checks a part line,
    raising ArchiveError with the reason (the reader adds the line number); ``close`` checks
    that no blob was left unfinished.
    """

    def __init__(self) -> None:
        self.named: dict[str, list[bytes]] = {}   # digest -> ids of the entries naming it
        self.carried: dict[str, ArchivedBlob] = {}
        self.bytes = 0
        self._open: _Open | None = None

    def name(self, entry_id: bytes, digests: set[str]) -> None:
        for digest in sorted(digests):
            self.named.setdefault(digest, []).append(entry_id)

    def feed(self, line_number: int, line: bytes) -> None:
        """Check one part line (what a reader reads)."""
        try:
            record = decode_blob_part(line)
        except EncodingError as exc:
            raise ArchiveError(f"blob record is malformed ({exc})") from None
        self.add(line_number, record)

    def add(self, line_number: int, record: BlobPart) -> None:
        """Check one part (what a writer is about to write, or a reader decoded)."""
        current = self._open
        if current is not None and (record.digest != current.digest or record.part != current.parts + 1):
            raise ArchiveError(self._unfinished(current))
        if current is None:
            current = self._start(record, line_number)
        if record.size != current.size:
            raise ArchiveError(f"blob {record.digest} part {record.part}: says {record.size} bytes, "
                               f"its first part said {current.size}")
        expected = min(BLOB_PART_BYTES, current.size - current.received)
        if len(record.data) != expected:
            raise ArchiveError(f"blob {record.digest} part {record.part} of {part_count(current.size)}: "
                               f"holds {len(record.data)} bytes, not {expected}")
        current.hash.update(record.data)
        current.received += len(record.data)
        current.parts += 1
        if current.received == current.size:
            self._open = None
            if current.hash.hexdigest() != current.digest:
                raise ArchiveError(f"blob {current.digest}: its bytes do not match its sha256 (blob_mismatch)")
            self.carried[current.digest] = ArchivedBlob(current.digest, current.first_line, current.size)
            self.bytes += current.size

    def _start(self, record: BlobPart, line_number: int) -> _Open:
        digest = record.digest
        if record.part != 1:
            raise ArchiveError(f"blob {digest} starts at part {record.part}, not 1")
        if digest in self.carried:
            raise ArchiveError(f"blob {digest} is carried twice (first at line "
                               f"{self.carried[digest].first_line})")
        if digest not in self.named:
            raise ArchiveError(f"blob {digest} is named by no entry of the archive")
        if record.size > MAX_BLOB_BYTES:
            raise ArchiveError(f"blob {digest} is {record.size} bytes, more than the "
                               f"{MAX_BLOB_BYTES} an archive may carry")
        self._open = _Open(digest, record.size, line_number)
        return self._open

    @staticmethod
    def _unfinished(current: _Open) -> str:
        return (f"blob {current.digest} stops after part {current.parts} of "
                f"{part_count(current.size)} (line {current.first_line} on)")

    def close(self) -> None:
        """At the trailer: every blob begun was finished."""
        if self._open is not None:
            raise ArchiveError(self._unfinished(self._open))

    def references(self) -> dict[str, list[bytes]]:
        """For each carried blob, the ids of the entries naming it."""
        return {digest: self.named[digest] for digest in self.carried}
