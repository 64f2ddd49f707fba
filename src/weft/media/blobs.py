"""A content-addressed store of media files: each file is named by the sha256 of its bytes.

Layout: ``root/ab/cd/abcd...`` (the 64-hex digest, sharded by its first two byte pairs so
that no directory holds more than a few thousand entries). The same bytes always land in
the same file, so storing twice is free, and a name is its own integrity check.

Writes go to a temporary file in the destination directory (named ``.tmp-*``, never 64
hex digits), are fsynced, then renamed over the final name with ``os.replace``: a reader
sees the whole file or none, even if the process dies mid-write. A crash can leave a
temporary file behind; no method ever looks at one.

Blocking file I/O: callers on an event loop run these methods in a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from weft.errors import NotFound
from weft.media.errors import MediaError

_DIGEST = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644  # served by the web server, which may run as another user


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


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
