"""The images an archive carries: written after the entries on export, stored before them on import.

``weft.archive`` calls these; the record format and its checks are pure
(``weft.core.archive_blobs``, docs/protocol/archive.md). Both directions stream one
part (48 KiB) at a time, so an archive of many large images never sits in memory.
Blocking file I/O: the callers run these functions in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from weft.core.archive import MAX_LINE_BYTES, ArchiveSummary, ArchiveWriter
from weft.core.archive_blobs import BLOB_PART_BYTES, MAX_BLOB_BYTES, decode_blob_part, part_count
from weft.core.encoding import sha256
from weft.errors import ArchiveError, EncodingError
from weft.media.blobs import BlobStore, BlobWriter
from weft.media.errors import MediaError

__all__ = ["copy_blob", "os_problem", "read_lines", "store_blobs"]

log = logging.getLogger("weft.archive")


def os_problem(exc: OSError) -> str:
    return exc.strerror or str(exc)


def read_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, each with its newline; a line past the record limit comes back cut."""
    while line := handle.readline(MAX_LINE_BYTES + 1):
        yield line


def _sound_size(file: IO[bytes], digest: str) -> int | None:
    """The blob file's size if its bytes hash to its name and an archive may carry it."""
    size = os.fstat(file.fileno()).st_size
    if not 0 < size <= MAX_BLOB_BYTES:
        return None
    check = hashlib.sha256()
    while chunk := file.read(1 << 20):
        check.update(chunk)
    return size if check.hexdigest() == digest else None


def copy_blob(store: BlobStore, digest: str, writer: ArchiveWriter, out: IO[bytes]) -> int:
    """Write the blob ``digest`` as part lines to ``out``; its size, or 0 if this node does not
    hold it whole (never uploaded here, removed, or a damaged file: an archive must verify).

    The file stays open throughout, so a removal meanwhile does not cut it short; it is
    hashed before its first part is written, so a damaged file leaves no partial record.
    """
    try:
        file = store.path(digest).open("rb")
    except (FileNotFoundError, IsADirectoryError, MediaError):
        return 0
    with file:
        size = _sound_size(file, digest)
        if size is None:
            log.warning("media file %s is not what its name says; left out of the archive", digest)
            return 0
        file.seek(0)
        for part in range(1, part_count(size) + 1):
            out.write(writer.blob_part(digest, size, part, file.read(BLOB_PART_BYTES)))
    return size


def _held_whole(store: BlobStore, digest: str, size: int) -> bool:
    try:
        return store.path(digest).stat().st_size == size
    except FileNotFoundError:
        return False


def store_blobs(path: Path, summary: ArchiveSummary, offset: int, store: BlobStore,
                only: set[str] | None = None) -> int:
    """Store the verified archive's blobs (``only`` those, if given) that ``store`` lacks, reading
    the part lines again from byte ``offset`` (where the first begins); how many files were written.

    Each line is checked against the SHA-256 the verification took of it, and each file against
    its name before it is renamed into place, so a file changed since cannot store bad bytes.
    A file of the blob's size already there is taken as held, as ``BlobStore.put`` takes it.
    """
    if summary.first_blob_line is None:
        return 0
    written = 0
    sink: BlobWriter | None = None
    number = summary.first_blob_line
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            for line in read_lines(handle):
                if number >= summary.lines:
                    break
                if sha256(line) != summary.line_digest(number):
                    raise ArchiveError(f"line {number}: the file changed while it was being imported; "
                                       "no entries were imported")
                part = decode_blob_part(line)
                if part.part == 1 and (only is None or part.digest in only) \
                        and not _held_whole(store, part.digest, part.size):
                    sink = store.writer(part.digest)
                if sink is not None:
                    sink.write(part.data)
                    if part.part == part_count(part.size):
                        sink.commit()
                        sink, written = None, written + 1
                number += 1
    except OSError as exc:
        raise ArchiveError(f"cannot store the images of {path}: {os_problem(exc)}") from None
    except (EncodingError, MediaError) as exc:  # the bytes verified a moment ago: the file changed
        raise ArchiveError(f"line {number}: the file changed while it was being imported ({exc}); "
                           "no entries were imported") from None
    finally:
        if sink is not None:
            sink.abort()
    return written
