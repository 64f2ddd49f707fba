"""Batches of entries as they travel between peers: lean binary, no re-encoding.

A batch is the concatenation, for each entry, of ``varint(len(header))``, the signed
header bytes, ``varint(len(content) + 1)`` and the content bytes, where a content
length of 0 (``varint(0)``) means "no content" (deleted, expired, or not held). Headers
and contents go as the bytes that were signed and hashed, so the receiver verifies
exactly what was sent, and a batch costs a few bytes per entry over the entries
themselves (docs/protocol/replication.md section 3).

Pure: bytes in, bytes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from weft.core.content import MAX_CONTENT_BYTES
from weft.core.entry import MAX_HEADER_BYTES
from weft.errors import WeftError

__all__ = ["MAX_BATCH_BYTES", "BatchError", "Batcher", "WireEntry", "decode_batch", "encode_batch"]

MAX_BATCH_BYTES = 64 * 1024 + MAX_HEADER_BYTES + MAX_CONTENT_BYTES  # one full entry always fits


class BatchError(WeftError):
    """A batch that cannot be read: truncated, a length out of bounds, or bytes left over."""


@dataclass(frozen=True, slots=True)
class WireEntry:
    header: bytes
    content: bytes | None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    for index in range(at, min(at + 4, len(data))):  # 4 bytes cover every length we allow
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if index > at and byte == 0:
                raise BatchError(f"length at byte {at} is not minimally encoded")
            return value, index + 1
        shift += 7
    raise BatchError(f"length at byte {at} is truncated or too long")


def encode_batch(entries: Iterable[tuple[bytes, bytes | None]]) -> bytes:
    parts: list[bytes] = []
    for header, content in entries:
        parts += [_varint(len(header)), header]
        parts += [_varint(0)] if content is None else [_varint(len(content) + 1), content]
    return b"".join(parts)


def decode_batch(data: bytes) -> list[WireEntry]:
    """The entries of a batch; BatchError if it is not exactly a sequence of entries.

    Lengths are bounded by the protocol's own limits before anything is sliced, so a
    hostile length costs nothing; whether the bytes are a valid entry is ingest's job.
    """
    if len(data) > MAX_BATCH_BYTES:
        raise BatchError(f"batch is {len(data)} bytes; the limit is {MAX_BATCH_BYTES}")
    entries: list[WireEntry] = []
    at = 0
    while at < len(data):
        size, at = _read_varint(data, at)
        if not 0 < size <= MAX_HEADER_BYTES:
            raise BatchError(f"entry {len(entries)}: header length {size} is out of bounds")
        if at + size > len(data):
            raise BatchError(f"entry {len(entries)}: header is truncated")
        header = data[at:at + size]
        at += size
        marked, at = _read_varint(data, at)
        if marked > MAX_CONTENT_BYTES + 1:
            raise BatchError(f"entry {len(entries)}: content length {marked - 1} is out of bounds")
        content = None
        if marked:
            if at + marked - 1 > len(data):
                raise BatchError(f"entry {len(entries)}: content is truncated")
            content = data[at:at + marked - 1]
            at += marked - 1
        entries.append(WireEntry(header, content))
    return entries


class Batcher:
    """Cuts a stream of entries into batches of at most ``limit`` bytes (one entry at least)."""

    def __init__(self, limit: int = 64 * 1024) -> None:
        self.limit = limit

    def batches(self, entries: Iterable[tuple[bytes, bytes | None]]) -> Iterator[bytes]:
        current: list[bytes] = []
        size = 0
        for header, content in entries:
            encoded = encode_batch([(header, content)])
            if current and size + len(encoded) > self.limit:
                yield b"".join(current)
                current, size = [], 0
            current.append(encoded)
            size += len(encoded)
        if current:
            yield b"".join(current)
