"""The two kinds of names weft derives from hashes.

- An entry id (and an identity-operation id) is the lower-case unpadded base32
  of the SHA-256 of the signed canonical bytes: 52 characters, safe to type
  and to pass as a shell argument (base64url can start with ``-``).
- An identity is ``did:weft:`` followed by the base32 of the first 30 bytes
  (240 bits) of the SHA-256 of its signed genesis operation: 48 characters.
"""

from __future__ import annotations

import re
from typing import Any, Final

from weft.core.encoding import b32, from_b32, sha256
from weft.errors import KeyFormatError

__all__ = [
    "DID_PREFIX",
    "did_from_genesis",
    "entry_id_bytes",
    "entry_id_text",
    "is_actor_iri",
    "is_did_weft",
    "is_entry_id",
    "is_person",
    "parse_did",
    "parse_entry_id",
]

DID_PREFIX: Final = "did:weft:"
DID_HASH_BYTES: Final = 30
_DID_RE: Final = re.compile(r"did:weft:[a-z2-7]{48}")
_ID_RE: Final = re.compile(r"[a-z2-7]{51}[aq]")
MAX_IRI_CHARS: Final = 2048
_IRI_RE: Final = re.compile(r"https?://[^\s\x00-\x1f\x7f/?#@]+(?:[/?#][^\s\x00-\x1f\x7f]*)?")


def entry_id_bytes(signed: bytes) -> bytes:
    """The 32-byte id of signed canonical bytes."""
    return sha256(signed)


def entry_id_text(raw_id: bytes) -> str:
    return b32(raw_id)


def is_entry_id(value: Any) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def parse_entry_id(text: str) -> bytes:
    if not is_entry_id(text):
        raise KeyFormatError(f"not an entry id: {str(text)[:80]!r}")
    return from_b32(text, 32)


def did_from_genesis(signed_genesis: bytes) -> str:
    return DID_PREFIX + b32(sha256(signed_genesis)[:DID_HASH_BYTES])


def is_did_weft(value: Any) -> bool:
    return isinstance(value, str) and _DID_RE.fullmatch(value) is not None


def parse_did(text: str) -> str:
    """Return ``text`` if it is a well-formed did:weft, else raise KeyFormatError."""
    if not is_did_weft(text):
        raise KeyFormatError(f"malformed DID {str(text)[:80]!r}: expected did:weft: and 48 base32 characters")
    return text


def is_actor_iri(value: Any) -> bool:
    """An http(s) IRI, as ActivityPub names actors and objects: a host, no spaces, no controls."""
    return isinstance(value, str) and len(value) <= MAX_IRI_CHARS and _IRI_RE.fullmatch(value) is not None


def is_person(value: Any) -> bool:
    """Whom content may name as a person: a weft identity, or an ActivityPub actor by its IRI."""
    return is_did_weft(value) or is_actor_iri(value)
