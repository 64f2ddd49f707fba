"""Canonical JSON: the one byte encoding that is hashed and signed.

Rules (docs/protocol/encoding.md): a JSON object with keys sorted by their
UTF-8 bytes, no insignificant whitespace, UTF-8, every string in Unicode NFC,
integers only and within the interoperable range, no floats, objects and arrays
nested at most MAX_DEPTH deep, binary written as base64url without padding.
Decoding checks that the bytes are exactly what encoding the decoded value would
give, so there is one encoding per value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from typing import Any

import orjson

from weft.errors import EncodingError

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 64

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INT",
    "b32",
    "b64url",
    "canonical",
    "check_values",
    "decode_canonical",
    "from_b32",
    "from_b64url",
    "sha256",
]


def _is_plainly_valid(value: Any, depth: int = 1) -> bool:
    """Whether ``value`` passes every check of :func:`_check_value`, found without building
    a path for each value (the walk runs on every entry encoded or decoded, and the paths
    were most of its cost). True only for the exact built-in types; anything else, valid
    or not, is left to :func:`_check_value`, which then raises naming the path, or passes."""
    kind = type(value)
    if kind is dict:
        if depth > MAX_DEPTH:
            return False
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or unicodedata.is_normalized("NFC", key)):
                return False
            # Strings, the most of an entry's values, are checked here rather than by a call.
            if type(item) is str:
                if not (item.isascii() or unicodedata.is_normalized("NFC", item)):
                    return False
            elif not _is_plainly_valid(item, depth + 1):
                return False
        return True
    if kind is str:
        text: str = value   # ASCII text is always in NFC, and isascii() is cheaper than asking
        return text.isascii() or unicodedata.is_normalized("NFC", text)
    if kind is list:
        return depth <= MAX_DEPTH and all(_is_plainly_valid(item, depth + 1) for item in value)
    if kind is int:
        number: int = value
        return -MAX_SAFE_INT <= number <= MAX_SAFE_INT
    return kind is bool or value is None


def check_values(value: dict[str, Any]) -> None:
    """The per-value checks of :func:`canonical` (NFC, integer range, no floats, depth),
    for a value whose bytes were already compared with its encoding."""
    if not _is_plainly_valid(value):
        _check_value(value, "$")


def _check_value(value: Any, path: str, depth: int = 1) -> None:
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            raise EncodingError(f"{path}: string is not in Unicode NFC")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise EncodingError(f"{path}: integer {value} is outside ±(2^53-1)")
    elif isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed")
    elif isinstance(value, dict | list) and depth > MAX_DEPTH:
        raise EncodingError(f"{path}: objects and arrays nest more than {MAX_DEPTH} deep")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{path}: object keys must be strings")
            if not unicodedata.is_normalized("NFC", key):
                raise EncodingError(f"{path}: key {key!r} is not in Unicode NFC")
            _check_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
    else:
        raise EncodingError(f"{path}: {type(value).__name__} cannot be encoded")


def canonical(value: dict[str, Any]) -> bytes:
    """Encode a JSON object canonically. Raises EncodingError for values that have no encoding."""
    if not isinstance(value, dict):
        raise EncodingError("the top level must be a JSON object")
    check_values(value)
    return _dumps(value)


def _dumps(value: dict[str, Any]) -> bytes:
    # orjson refuses lone surrogates and nesting past its own limit with a TypeError.
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise EncodingError(f"cannot be encoded: {exc}") from None


def decode_canonical(data: bytes) -> dict[str, Any]:
    """Decode bytes that must already be canonical; anything else raises EncodingError."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EncodingError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EncodingError("the top level must be a JSON object")
    check_values(value)
    if _dumps(value) != data:
        raise EncodingError("not canonical (key order, whitespace, escapes or duplicate keys)")
    return value


def decode_canonical_shape(data: bytes) -> dict[str, Any]:
    """Like decode_canonical, but leaves the per-value checks (NFC, integer range) to the caller.

    For headers whose every field is then validated against a strict pattern:
    the per-value walk is a third of the cost of decoding a header.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EncodingError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EncodingError("the top level must be a JSON object")
    if _dumps(value) != data:
        raise EncodingError("not canonical (key order, whitespace, escapes or duplicate keys)")
    return value


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64url(data: bytes) -> str:
    """Binary as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str, length: int | None = None) -> bytes:
    """Decode unpadded base64url, refusing padding, stray characters and non-canonical tails."""
    if not isinstance(text, str) or "=" in text:
        raise EncodingError("expected unpadded base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise EncodingError("invalid base64url") from None
    if b64url(data) != text:
        raise EncodingError("invalid base64url (non-canonical characters)")
    if length is not None and len(data) != length:
        raise EncodingError(f"expected {length} bytes, got {len(data)}")
    return data


def b32(data: bytes) -> str:
    """Lower-case base32 (RFC 4648 alphabet) without padding: ids people copy and type."""
    return base64.b32encode(data).rstrip(b"=").decode("ascii").lower()


# RFC 4648 base32 digits mapped onto the digits int() reads in base 32, so that
# decoding is one C call instead of base64.b32decode's Python loop.
_TO_INT_DIGITS = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv")
_B32_RE = re.compile(r"[a-z2-7]*")


def from_b32(text: str, length: int) -> bytes:
    """Decode lower-case unpadded base32 of exactly ``length`` bytes, refusing non-canonical tails."""
    if not isinstance(text, str) or len(text) != (length * 8 + 4) // 5 or not _B32_RE.fullmatch(text):
        raise EncodingError(f"expected {length} bytes as lower-case unpadded base32")
    spare = len(text) * 5 - length * 8
    number = int(text.translate(_TO_INT_DIGITS), 32)
    if number & ((1 << spare) - 1):
        raise EncodingError("invalid base32 (non-canonical tail)")
    return (number >> spare).to_bytes(length, "big")
