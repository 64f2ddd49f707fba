"""Portable archives: one identity's whole history as one verifiable text file.

An archive is UTF-8 text, one canonical JSON record per line, each line ending
in ``\\n`` (docs/protocol/archive.md is the reference)::

    {"archive":"weft","created":MS,"entries":M,"identity":DID,"ops":N,"v":2}
    {"op":<signed identity operation>}                         N lines, chain order
    {"content":<content or null>,"entry":<signed header>}      M lines, device after device
    {"blob":HEX,"bytes":B,"data":<b64url>,"part":I}            the images the content names
    {"end":"weft","sha256":<b64url SHA-256 of every byte before this line>}

Every byte is covered: operations and headers are signed, content is bound by
the header's hash, blobs by their sha256 (their name) and by being named by some
content, the header line by the genesis (its DID) and the counts, and everything
before the trailer by the trailer's digest. Version 1 is the same without blobs;
both are read. ``ArchiveReader``
checks all of it without I/O, one line at a time, so a caller can stream a
file of any size through it and write nothing until ``finish`` returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from weft.core.archive_blobs import BLOB_PREFIX, ArchivedBlob, BlobRecords
from weft.core.archive_writer import (
    ENTRY_MID,
    ENTRY_PREFIX,
    FORMAT,
    OP_PREFIX,
    VERSION,
    ArchiveWriter,
)
from weft.core.blob_names import blobs_named
from weft.core.encoding import decode_canonical, from_b64url
from weft.core.entry import (
    Entry,
    check_chain,
    check_content,
    check_signature,
    check_time,
    decode_entry,
)
from weft.core.identity import IdentityState, check_device, decode_op, next_state
from weft.core.ids import is_did_weft
from weft.errors import ArchiveError, EncodingError, EntryRejected, IdentityOpRejected

__all__ = [
    "FORMAT",
    "MAX_LINE_BYTES",
    "READABLE_VERSIONS",
    "VERSION",
    "ArchiveReader",
    "ArchiveSummary",
    "ArchiveWriter",
    "ArchivedLog",
    "entry_parts",
    "verify_lines",
]

READABLE_VERSIONS: Final = (1, 2)
# The longest record: an entry line with 64 KiB of content and a 1 KiB header, and some
# spare; a blob part line (64 KiB of base64url and its 64-digit name) fits as well.
MAX_LINE_BYTES: Final = 80 * 1024
_HEADER_KEYS: Final = frozenset({"archive", "v", "identity", "created", "ops", "entries"})


def entry_parts(line: bytes) -> tuple[bytes, bytes | None] | None:
    """Cut an entry line into (header bytes, content bytes or None); None if it is not one.

    The line is ``{"content":C,"entry":H}``: H is the last member (keys sort) and a header's
    fixed keys and pattern-checked values never contain ``,"entry":``, so the last occurrence
    splits it. The caller still verifies H and C; a wrong cut fails those checks.
    """
    body = line[:-1] if line.endswith(b"\n") else line
    cut = body.rfind(ENTRY_MID)
    if not body.startswith(ENTRY_PREFIX) or not body.endswith(b"}") or cut < len(ENTRY_PREFIX):
        return None
    content = body[len(ENTRY_PREFIX):cut]
    return body[cut + len(ENTRY_MID):-1], None if content == b"null" else content


@dataclass
class ArchivedLog:
    """One device log as the archive holds it: seq 1 to ``count``, from ``first_line`` on."""

    key: str
    first_line: int
    count: int = 0
    ids: bytearray = field(default_factory=bytearray)

    def id_at(self, seq: int) -> bytes:
        return bytes(self.ids[(seq - 1) * 32 : seq * 32])

    def line_of(self, seq: int) -> int:
        return self.first_line + seq - 1


@dataclass
class ArchiveSummary:
    """What a verified archive holds, kept small: everything but the content and the blobs' bytes.

    ``line_digests`` holds the SHA-256 of every line, so that a second pass over the
    file can prove it reads the bytes that were verified. ``blobs`` are the blobs carried
    (their part lines begin at ``first_blob_line``), ``blob_refs`` the ids of the entries
    naming each of them, ``blobs_named`` how many distinct blobs the content names
    (carried or not).
    """

    did: str
    created: int
    ops: list[bytes]
    state: IdentityState
    logs: dict[str, ArchivedLog]
    entries: int
    header_only: int
    lines: int
    line_digests: bytearray
    version: int = VERSION
    blobs: dict[str, ArchivedBlob] = field(default_factory=dict)
    blob_refs: dict[str, list[bytes]] = field(default_factory=dict)
    blobs_named: int = 0
    blob_bytes: int = 0
    first_blob_line: int | None = None

    def line_digest(self, line_number: int) -> bytes:
        return bytes(self.line_digests[(line_number - 1) * 32 : line_number * 32])


def _problem(exc: EntryRejected | IdentityOpRejected, subject: str, *names: str) -> str:
    """``<subject>: <what is wrong> (<code>)`` from a rejection's ``<code>: [<name>: ]<what>``."""
    text = str(exc)
    if text.startswith(f"{exc.code}: "):
        text = text[len(exc.code) + 2 :]
    for name in (subject, *names):
        if text.startswith(f"{name}: "):
            text = text[len(name) + 2 :]
    return f"{subject}: {text} ({exc.code})"


class ArchiveReader:
    """Verifies an archive fed one line at a time; raises ArchiveError naming the line.

    Pure: ``now_ms`` is the reading node's clock (entries and operations dated more
    than ten minutes after it are refused, as ingest would refuse them).
    """

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.line = 0
        self._hash = hashlib.sha256()
        self._digests = bytearray()
        self._header: dict[str, Any] | None = None
        self._ops: list[bytes] = []
        self._state: IdentityState | None = None
        self._logs: dict[str, ArchivedLog] = {}
        self._current: ArchivedLog | None = None
        self._last: Entry | None = None
        self._entries = 0
        self._header_only = 0
        self._blobs = BlobRecords()
        self._first_blob_line: int | None = None
        self._ended = False

    def _fail(self, message: str) -> ArchiveError:
        return ArchiveError(f"line {self.line}: {message}")

    def _after(self) -> str:
        if self._first_blob_line is not None:
            return f"after the blob records from line {self._first_blob_line}"
        if self._last is not None:
            return f"after {self._last.describe()}"
        if self._ops:
            return f"after identity operation {len(self._ops)}"
        return "after the header line"

    def _unreadable(self, body: bytes, expected: str) -> ArchiveError:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ArchiveError(f"line {self.line} is not valid JSON ({self._after()})")
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        return self._fail(f"expected {expected}, found a record with {keys} ({self._after()})")

    def feed(self, line: bytes) -> None:
        """Check one line, including its final ``\\n``."""
        self.line += 1
        if self._header is None and not line.startswith(b'{"archive":'):
            raise ArchiveError("not a weft archive: line 1 is not an archive header")
        if self._ended:
            raise ArchiveError(f"line {self.line}: there is more after the trailer line")
        if len(line) > MAX_LINE_BYTES:
            raise ArchiveError(f"line {self.line} is longer than any archive record ({self._after()})")
        if not line.endswith(b"\n"):
            raise ArchiveError(f"line {self.line} does not end with a newline: the file is truncated")
        self._digests += hashlib.sha256(line).digest()
        if self._header is None:
            self._read_header(line)
        elif line.startswith(OP_PREFIX) and not self._entries:
            self._read_op(line)
        elif line.startswith(ENTRY_PREFIX) and self._first_blob_line is None:
            self._read_entry(line)
        elif line.startswith(BLOB_PREFIX) and self._header_value("v") >= 2:
            self._read_blob(line)
        elif line.startswith(b'{"end":'):
            self._read_trailer(line)
            return
        else:
            raise self._unreadable(line[:-1], self._expected())
        self._hash.update(line)

    def _expected(self) -> str:
        if self._first_blob_line is not None:
            return "a blob record or the trailer"
        kinds = ["an entry"] if self._entries else ["an identity operation", "entry"]
        if self._header_value("v") >= 2:
            kinds.append("blob record")
        return f"{', '.join(kinds)} or the trailer"

    def _read_header(self, line: bytes) -> None:
        try:
            header = decode_canonical(line[:-1])
        except EncodingError:
            raise ArchiveError("not a weft archive: line 1 is not an archive header") from None
        if header.get("archive") != FORMAT:
            raise ArchiveError("not a weft archive: line 1 is not an archive header")
        if header.get("v") not in READABLE_VERSIONS or isinstance(header.get("v"), bool):
            raise self._fail(f"archive version {header.get('v')!r} is not supported (this node reads "
                             f"{' and '.join(map(str, READABLE_VERSIONS))})")
        if set(header) != _HEADER_KEYS:
            raise self._fail(f"the archive header must have exactly the fields {sorted(_HEADER_KEYS)}")
        for key in ("created", "ops", "entries"):
            if isinstance(header[key], bool) or not isinstance(header[key], int) or header[key] < 0:
                raise self._fail(f"the archive header's {key!r} must be a non-negative integer")
        if not is_did_weft(header["identity"]):
            raise self._fail("the archive header's 'identity' is not a did:weft identity")
        self._header = header

    def _read_op(self, line: bytes) -> None:
        if not line.endswith(b"}\n"):
            raise self._unreadable(line[:-1], "an identity operation")
        subject, name = f"identity operation {len(self._ops) + 1}", "?"
        try:
            op = decode_op(line[len(OP_PREFIX):-2])
            subject, name = f"{subject} ({op.id_text})", f"operation {op.id_text}"
            self._state = next_state(self._state, op, self.now_ms)
        except IdentityOpRejected as exc:
            if exc.code == "malformed" and self._is_broken_json(line):
                raise self._unreadable(line[:-1], "an identity operation") from None
            raise self._fail(_problem(exc, subject, name)) from None
        if len(self._ops) == 0 and self._state.did != self._header_value("identity"):
            raise self._fail(f"the identity log starts {self._state.did}, but line 1 names "
                             f"{self._header_value('identity')}")
        self._ops.append(op.raw)

    def _read_entry(self, line: bytes) -> None:
        if self._state is None:
            raise self._fail("an entry comes before any identity operation")
        parts = entry_parts(line)
        if parts is None:
            raise self._unreadable(line[:-1], "an entry")
        raw, content = parts
        entry: Entry | None = None
        try:
            entry = decode_entry(raw)
            log = self._log_for(entry)
            check_time(entry, self.now_ms)
            check_signature(entry)
            named = blobs_named(check_content(entry, content)) if content is not None else set()
            check_chain(entry, log.count, log.id_at(log.count) if log.count else None)
            check_device(entry, self._state)
        except EntryRejected as exc:
            if self._is_broken_json(line):
                raise self._unreadable(line[:-1], "an entry") from None
            subject = entry.describe() if entry is not None else f"entry ? ({self._after()})"
            raise self._fail(_problem(exc, subject)) from None
        log.count += 1
        log.ids += entry.id
        self._blobs.name(entry.id, named)
        self._entries += 1
        self._header_only += content is None
        self._last = entry

    def _read_blob(self, line: bytes) -> None:
        if self._state is None:
            raise self._fail("a blob record comes before any identity operation")
        if self._first_blob_line is None:
            self._first_blob_line = self.line
        try:
            self._blobs.feed(self.line, line)
        except ArchiveError as exc:
            if self._is_broken_json(line):
                raise self._unreadable(line[:-1], "a blob record") from None
            raise self._fail(str(exc)) from None

    def _log_for(self, entry: Entry) -> ArchivedLog:
        log = self._current
        if log is None or log.key != entry.device:
            if entry.device in self._logs:
                raise self._fail(f"{entry.describe()}: this device's log already ended at line "
                                 f"{self._logs[entry.device].line_of(self._logs[entry.device].count)}; "
                                 "each device log must be one run of lines")
            log = self._current = self._logs[entry.device] = ArchivedLog(entry.device, self.line)
        return log

    def _read_trailer(self, line: bytes) -> None:
        self._ended = True
        digest: bytes | None = None
        try:
            trailer = decode_canonical(line[:-1])
            if set(trailer) == {"end", "sha256"} and trailer["end"] == FORMAT:
                digest = from_b64url(trailer["sha256"], 32)
        except EncodingError:
            pass
        if digest is None:
            raise self._fail('the trailer is damaged: expected {"end":"weft","sha256":…}')
        try:
            self._blobs.close()
        except ArchiveError as exc:
            raise self._fail(str(exc)) from None
        announced_ops, announced_entries = self._header_value("ops"), self._header_value("entries")
        if (len(self._ops), self._entries) != (announced_ops, announced_entries):
            raise ArchiveError(f"line 1 announces {announced_ops} identity operations and "
                               f"{announced_entries} entries, but the file holds {len(self._ops)} "
                               f"and {self._entries}")
        if digest != self._hash.digest():
            raise self._fail(f"the trailer's sha256 does not match lines 1 to {self.line - 1}: "
                             "the file was changed after it was written")

    def _header_value(self, key: str) -> Any:
        if self._header is None:
            raise ArchiveError("not a weft archive: line 1 is not an archive header")
        return self._header[key]

    @staticmethod
    def _is_broken_json(line: bytes) -> bool:
        try:
            orjson.loads(line[:-1])
        except orjson.JSONDecodeError:
            return True
        return False

    def finish(self) -> ArchiveSummary:
        """After the last line: the summary of a fully verified archive, or ArchiveError."""
        if self._header is None:
            raise ArchiveError("the file is empty: not a weft archive")
        if not self._ended:
            raise ArchiveError(f"the file ends after line {self.line} without its trailer: "
                               "it is truncated")
        if self._state is None:
            raise ArchiveError("the archive holds no identity operations")
        return ArchiveSummary(
            did=self._state.did, created=self._header["created"], ops=self._ops, state=self._state,
            logs=self._logs, entries=self._entries, header_only=self._header_only, lines=self.line,
            line_digests=self._digests, version=self._header["v"], blobs=self._blobs.carried,
            blob_refs=self._blobs.references(), blobs_named=len(self._blobs.named),
            blob_bytes=self._blobs.bytes, first_blob_line=self._first_blob_line)


def verify_lines(lines: Iterable[bytes], now_ms: int) -> ArchiveSummary:
    """Verify a whole archive given as its lines (each with its ``\\n``)."""
    reader = ArchiveReader(now_ms)
    for line in lines:
        reader.feed(line)
    return reader.finish()

