"""Writing archive lines: the header, operations, entries, blob parts and the trailer.

``weft.core.archive`` reads what this writes (docs/protocol/archive.md). Kept apart from
the reader so that each stays small; the byte forms both rely on are defined here.
"""

from __future__ import annotations

import hashlib
from typing import Final

import orjson

from weft.core.archive_blobs import BlobPart, BlobRecords, blob_part_line
from weft.core.blob_names import blobs_named
from weft.core.encoding import b64url, canonical
from weft.errors import ArchiveError

__all__ = ["FORMAT", "VERSION", "ArchiveWriter"]

FORMAT: Final = "weft"
VERSION: Final = 2   # what this writes; 1 was the same without blob records
OP_PREFIX: Final = b'{"op":'
ENTRY_PREFIX: Final = b'{"content":'
ENTRY_MID: Final = b',"entry":'


def named_by_bytes(content: bytes) -> set[str]:
    """The blobs canonical content names; a cheap test first, since most content names none."""
    if b'"attachments"' not in content and b"/media/" not in content:
        return set()
    return blobs_named(orjson.loads(content))


class ArchiveWriter:
    """Turns an identity's records into archive lines, keeping the digest and the counts.

    Each method returns the bytes to write next; ``end`` refuses to close an archive
    whose counts differ from the ones announced in its first line. The entries' content
    tells it which blobs may follow (``named``, in the order first named); a blob part
    it is given is checked as a reader would check it.
    """

    def __init__(self, did: str, created_ms: int, ops: int, entries: int) -> None:
        self._hash = hashlib.sha256()
        self._announced = (ops, entries)
        self._counts = [0, 0]
        self._lines = 1
        self._blobs = BlobRecords()
        self._first: bytes | None = self._emit(canonical({
            "archive": FORMAT, "v": VERSION, "identity": did, "created": created_ms,
            "ops": ops, "entries": entries}) + b"\n")

    def _emit(self, line: bytes) -> bytes:
        self._hash.update(line)
        return line

    def start(self) -> bytes:
        """The header line (once)."""
        if self._first is None:
            raise ArchiveError("the archive header was already written")
        first, self._first = self._first, None
        return first

    def op(self, raw: bytes) -> bytes:
        """The line for one signed identity operation (canonical bytes, chain order)."""
        self._counts[0] += 1
        self._lines += 1
        return self._emit(OP_PREFIX + raw + b"}\n")

    def entry(self, header: bytes, content: bytes | None) -> bytes:
        """The line for one signed header and its canonical content (None: header only)."""
        if self._blobs.carried:
            raise ArchiveError("entries come before the blob records")
        self._counts[1] += 1
        self._lines += 1
        if content is not None:
            self._blobs.name(hashlib.sha256(header).digest(), named_by_bytes(content))
        return self._emit(ENTRY_PREFIX + (content if content is not None else b"null")
                          + ENTRY_MID + header + b"}\n")

    @property
    def named(self) -> list[str]:
        """The blobs the entries written so far name, in the order first named."""
        return list(self._blobs.named)

    @property
    def carried(self) -> int:
        """How many blobs were written whole."""
        return len(self._blobs.carried)

    def blob_part(self, digest: str, size: int, part: int, data: bytes) -> bytes:
        """The line for one part of a blob the entries named (ArchiveError if it does not fit)."""
        if self._counts[1] != self._announced[1]:
            raise ArchiveError("blob records come after all the entries")
        self._lines += 1
        self._blobs.add(self._lines, BlobPart(digest, size, part, data))
        return self._emit(blob_part_line(digest, size, part, data))

    def end(self) -> bytes:
        """The trailer line: the digest of everything written before it."""
        if tuple(self._counts) != self._announced:
            raise ArchiveError(f"the archive announced {self._announced[0]} operations and "
                               f"{self._announced[1]} entries but {self._counts[0]} and "
                               f"{self._counts[1]} were written")
        self._blobs.close()
        return canonical({"end": FORMAT, "sha256": b64url(self._hash.digest())}) + b"\n"
