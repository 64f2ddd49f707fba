"""The node secret, and sealing small secrets with it (hosted accounts' keys).

A hosted account's web-device key and rotation key live in the database, sealed with
XSalsa20-Poly1305 (NaCl's secretbox) under a 32-byte node secret kept apart from the
database: a stolen database, or a PostgreSQL backup, signs nothing. The secret is
``WEFT_NODE_SECRET`` (64 hex characters) when set, so that several processes on several
machines share it, else the file ``node.secret`` in the data directory, made on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import nacl.exceptions
import nacl.secret

from weft.errors import UsageError, WeftError
from weft.keyring import write_secret

__all__ = ["SealError", "Vault"]

_LABEL = b"weft-sealed-v1:"


class SealError(WeftError):
    """Sealed bytes that do not open: tampered with, or sealed under another node secret."""


class Vault:
    """Seals and opens secrets under the node secret."""

    def __init__(self, secret: bytes, random: Callable[[int], bytes] = os.urandom) -> None:
        if len(secret) != nacl.secret.SecretBox.KEY_SIZE:
            raise UsageError("the node secret must be 32 bytes (64 hex characters)")
        self._box = nacl.secret.SecretBox(secret)
        self._random = random

    @classmethod
    def for_data_dir(cls, data_dir: Path, *, environ: Mapping[str, str] = os.environ,
                     random: Callable[[int], bytes] = os.urandom) -> Vault:
        """The vault of a node: ``WEFT_NODE_SECRET``, else ``DATA_DIR/node.secret`` (made if absent)."""
        given = environ.get("WEFT_NODE_SECRET")
        if given:
            try:
                return cls(bytes.fromhex(given.strip()), random)
            except ValueError:
                raise UsageError("WEFT_NODE_SECRET must be 64 hex characters") from None
        path = data_dir / "node.secret"
        if not path.exists():
            write_secret(path, random(32).hex() + "\n")
        try:
            return cls(bytes.fromhex(path.read_text().strip()), random)
        except ValueError:
            raise UsageError(f"{path} does not hold a node secret (64 hex characters)") from None

    def seal(self, plaintext: bytes) -> bytes:
        return _LABEL + bytes(self._box.encrypt(plaintext, self._random(nacl.secret.SecretBox.NONCE_SIZE)))

    def open(self, sealed: bytes) -> bytes:
        if not sealed.startswith(_LABEL):
            raise SealError("not a sealed secret of weft")
        try:
            return bytes(self._box.decrypt(sealed[len(_LABEL):]))
        except nacl.exceptions.CryptoError:
            raise SealError("a sealed secret does not open with this node's secret "
                            "(was WEFT_NODE_SECRET or node.secret changed?)") from None
