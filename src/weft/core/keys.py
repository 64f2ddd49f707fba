"""Ed25519 keys and their did:key names.

Public keys are written as ``did:key:z6Mk…``: multibase base58btc of the
multicodec prefix 0xed 0x01 followed by the 32 key bytes. Secret keys are
kept as their 32-byte seed. Signing and verifying are the only operations;
``verify`` raises instead of returning a bool, so a forgotten check cannot
pass silently.
"""

from __future__ import annotations

from functools import lru_cache

import base58
import nacl.bindings
import nacl.exceptions

from weft.core.encoding import b64url, from_b64url
from weft.errors import EncodingError, KeyFormatError

__all__ = [
    "BadSignature",
    "SigningKey",
    "did_key",
    "public_key_from_did_key",
    "verify",
]

_ED25519_PREFIX = b"\xed\x01"
_DID_KEY = "did:key:z"


class BadSignature(Exception):
    """A signature that does not verify (internal; callers translate it into a reason)."""


def did_key(public_key: bytes) -> str:
    """The did:key string for a 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    return _DID_KEY + base58.b58encode(_ED25519_PREFIX + public_key).decode("ascii")


def public_key_from_did_key(text: str) -> bytes:
    """The 32 key bytes named by a did:key string; KeyFormatError if it is not an Ed25519 did:key.

    Cached: base58 is slow in Python and a node sees the same few thousand device keys again and again.
    The type is checked before the cache, which would raise TypeError for an unhashable value
    (a list or an object where a peer's header should hold a string).
    """
    if not isinstance(text, str):
        raise KeyFormatError(f"not a did:key: {str(text)[:80]!r}")
    return _public_key_from_did_key(text)


@lru_cache(maxsize=65536)
def _public_key_from_did_key(text: str) -> bytes:
    if not text.startswith(_DID_KEY):
        raise KeyFormatError(f"not a did:key: {str(text)[:80]!r}")
    try:
        raw = base58.b58decode(text[len(_DID_KEY) :])
    except ValueError:
        raise KeyFormatError(f"did:key is not valid base58btc: {text[:80]!r}") from None
    if len(raw) != 34 or raw[:2] != _ED25519_PREFIX:
        raise KeyFormatError(f"did:key does not name an Ed25519 key: {text[:80]!r}")
    key = raw[2:]
    if did_key(key) != text:
        raise KeyFormatError(f"did:key is not in canonical form: {text[:80]!r}")
    return key


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise BadSignature unless ``signature`` is a valid Ed25519 signature of ``message``.

    PyNaCl's C call releases the GIL, so batches of these run in parallel on a thread pool.
    """
    if len(signature) != 64:
        raise BadSignature("an Ed25519 signature is 64 bytes")
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        raise BadSignature("signature does not verify") from None


class SigningKey:
    """An Ed25519 secret key, held as its 32-byte seed. Never printed: repr shows the did:key."""

    __slots__ = ("_secret", "public_key", "seed")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")
        public, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        self.seed: bytes = seed
        self.public_key: bytes = public
        self._secret: bytes = secret

    @property
    def did(self) -> str:
        return did_key(self.public_key)

    def sign(self, message: bytes) -> bytes:
        signed: bytes = nacl.bindings.crypto_sign(message, self._secret)
        return signed[:64]

    def export(self) -> str:
        """The seed as base64url text, for key files."""
        return b64url(self.seed)

    @classmethod
    def from_export(cls, text: str) -> SigningKey:
        try:
            return cls(from_b64url(text.strip(), 32))
        except (EncodingError, KeyFormatError) as exc:
            raise KeyFormatError(f"not a weft secret key: {exc}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningKey) and other.seed == self.seed

    def __hash__(self) -> int:
        return hash(self.public_key)

    def __repr__(self) -> str:
        return f"SigningKey({self.did})"
