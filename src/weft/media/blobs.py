"""A content-addressed store of media files: each file is named by the sha256 of its bytes.

Layout: ``root/ab/cd/abcd...`` (the 64-hex digest, sharded by its first two byte pairs so
that no directory holds more than a few thousand entries). The same bytes always land in
the same file, so storing twice is free, and a name is its own integrity check.

Writes go to a temporary file in the destination directory (named ``.tmp-*``, never 64
hex digits), are fsynced, then renamed over the final name with ``os.replace``: a reader
sees the whole file or none, even if the process dies mid-write. A crash can leave a
temporary file behind; no method but :meth:`BlobStore.scan` ever looks at one, and the
media sweep (weft.media.upkeep) removes those that are old.

Blocking file I/O: callers on an event loop run these methods in a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from weft.errors import NotFound
from weft.media.errors import MediaError

_DIGEST = re.compile(r"[0-9a-f]{64}")
_SHARD = re.compile(r"[0-9a-f]{2}")
_FILE_MODE = 0o644  # served by the web server, which may run as another user


@dataclass(frozen=True)
class BlobFile:
    """A file found in the store: a blob (``digest`` set) or a temporary left by a cut-off put."""

    path: Path
    digest: str | None
    mtime: float    # seconds since the epoch, as the file system keeps it


class BlobStore:
    """Files named by the sha256 hex digest of their content, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        """Where the blob ``digest`` lives (whether or not it exists).

        Raises :class:`MediaError` unless ``digest`` is 64 lowercase hex digits, so no
        name can reach outside ``root``.
        """
        if not isinstance(digest, str) or _DIGEST.fullmatch(digest) is None:
            raise MediaError(f"not a blob digest (64 lowercase hex digits): {digest!r:.80}")
        return self.root / digest[0:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its digest; storing the same bytes again changes nothing."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.path(digest)
        try:
            if final.stat().st_size == len(data):
                return digest
        except FileNotFoundError:
            pass
        final.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fchmod(file.fileno(), _FILE_MODE)  # mkstemp makes files 0600
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)  # make the rename itself survive a power cut
        return digest

    def writer(self, digest: str) -> BlobWriter:
        """A blob arriving in pieces (an archive's parts): ``write`` them, then ``commit``, which
        refuses bytes that do not hash to ``digest``. Memory holds one piece at a time."""
        return BlobWriter(self.path(digest), digest)

    def get(self, digest: str) -> bytes:
        """The blob's bytes; :class:`~weft.errors.NotFound` if this store does not hold it."""
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no media file {digest}") from None

    def has(self, digest: str) -> bool:
        """Whether this store holds the blob ``digest``."""
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        """The blob's length in bytes; :class:`~weft.errors.NotFound` if it is not held."""
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no media file {digest}") from None

    def delete(self, digest: str) -> bool:
        """Remove the blob; True if it was there.

        The caller decides that nothing refers to it any more. Shard directories stay,
        even when empty: removing one could race with a ``put`` into it.
        """
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def scan(self) -> Iterator[BlobFile]:
        """Every blob and temporary file, shard by shard (one directory listing at a time, so
        a store of millions of files is never listed into memory at once). Anything else
        under the root (a file of another name, a directory that is no shard) is passed over."""
        for first in _shards(self.root):
            for second in _shards(first):
                try:
                    found = list(os.scandir(second))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                for item in found:
                    if _DIGEST.fullmatch(item.name) is None and not item.name.startswith(".tmp-"):
                        continue
                    try:
                        info = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed meanwhile
                    digest = None if item.name.startswith(".tmp-") else item.name
                    if digest is not None and digest[:4] != first.name + second.name:
                        continue  # not where path() looks: no blob of this store
                    if item.is_file(follow_symlinks=False):
                        yield BlobFile(Path(item.path), digest, info.st_mtime)


class BlobWriter:
    """One blob written piece by piece to a temporary file, renamed into place by ``commit``
    once its sha256 is checked; ``abort`` (or leaving the ``with`` block) drops what was written."""

    def __init__(self, final: Path, digest: str) -> None:
        self.final = final
        self.digest = digest
        self.size = 0
        self._hash = hashlib.sha256()
        final.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        self._temporary = Path(temporary)
        self._file: BinaryIO | None = os.fdopen(descriptor, "wb")

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.abort()

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise MediaError(f"the media file {self.digest} is closed")
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def commit(self) -> None:
        """Check the bytes against the digest, then make them the blob (MediaError if they differ)."""
        if self._file is None:
            raise MediaError(f"the media file {self.digest} is closed")
        if self._hash.hexdigest() != self.digest:
            self.abort()
            raise MediaError(f"the bytes written do not hash to {self.digest}")
        file, self._file = self._file, None
        try:
            with file:
                file.flush()
                os.fchmod(file.fileno(), _FILE_MODE)
                os.fsync(file.fileno())
            os.replace(self._temporary, self.final)
        except BaseException:
            self._temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self.final.parent)

    def abort(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
            self._temporary.unlink(missing_ok=True)


def _shards(directory: Path) -> list[Path]:
    try:
        return sorted(Path(item.path) for item in os.scandir(directory)
                      if _SHARD.fullmatch(item.name) and item.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
