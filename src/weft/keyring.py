"""The secret keys a node holds, as files in its data directory.

``keys/device.key`` signs this device's log; ``keys/rotation.key`` signs
identity operations; ``keys/recovery.key`` is the highest-ranked rotation key,
kept here only until the user exports it and asks the node to forget it;
``keys/node.key`` is the node's own key on the peer-to-peer transport.
Files are written atomically with mode 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from weft.core.keys import SigningKey
from weft.errors import KeyFormatError, WeftError

__all__ = ["Keyring", "read_key_file", "write_secret"]

_HEADER = "# weft secret key ({role}) for {did}\n# Anyone holding this file can act as this key. Keep it offline.\n"


def write_secret(path: Path, text: str) -> None:
    """Write a secret file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def key_file_text(key: SigningKey, role: str, did: str) -> str:
    return _HEADER.format(role=role, did=did) + key.export() + "\n"


def read_key_file(path: Path) -> SigningKey:
    """A key from a file written by ``key_file_text`` (comment lines are skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WeftError(f"cannot read key file {path}: {exc}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1:
        raise KeyFormatError(f"{path} is not a weft key file")
    return SigningKey.from_export(lines[0])


class Keyring:
    """The key files of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "keys"

    def path(self, role: str) -> Path:
        return self.dir / f"{role}.key"

    def has(self, role: str) -> bool:
        return self.path(role).exists()

    def load(self, role: str) -> SigningKey:
        return read_key_file(self.path(role))

    def store(self, role: str, key: SigningKey, did: str) -> None:
        write_secret(self.path(role), key_file_text(key, role, did))

    def forget(self, role: str) -> None:
        path = self.path(role)
        if path.exists():
            # Overwrite before unlinking: a best effort against recovery from the same disk blocks.
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
