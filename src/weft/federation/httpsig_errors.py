"""The one error of HTTP signatures, and the one case of it that a fresh key may cure.

Every refusal of a signed request raises :class:`SignatureRejected`, whose message says what
is wrong (which header is missing, how stale the date is, what the body hashes to) and whose
``code`` names the rule for logs and counters. One kind of refusal is special: the signature
does not verify with the key the caller gave (:class:`SignatureMismatch`). Only that one is
worth fetching the sender's key again for, since the sender may have rotated it; every other
refusal would fail the same way with any key, so refetching for it only spends a request::

    WeftError
    └── SignatureRejected        malformed, stale, too little covered, digest wrong, …
        └── SignatureMismatch    this key does not verify this signature (or cannot)
"""

from __future__ import annotations

from typing import Literal

from weft.errors import WeftError

__all__ = ["RejectionCode", "SignatureMismatch", "SignatureRejected"]

RejectionCode = Literal[
    "malformed",   # a header or parameter that does not parse, or a request that cannot be signed
    "missing",     # a header or parameter the signature needs is absent
    "algorithm",   # an algorithm weft does not accept
    "coverage",    # the signature leaves out something weft requires it to cover
    "stale",       # dated too far in the past or the future, or expired
    "digest",      # the body does not hash to the digest the request carries
    "key",         # the key cannot verify this signature (unreadable, wrong type, too weak)
    "signature",   # the signature does not verify with the key
]


class SignatureRejected(WeftError):
    """A signed request refused; ``code`` names the rule and the message says the rest."""

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(message)
        self.code: RejectionCode = code


class SignatureMismatch(SignatureRejected):
    """The signature does not verify with the key given: the caller may fetch the key once more.

    The sender may have rotated its key since the caller cached it, so a fresh copy can
    succeed where the cached one failed. ``code`` is ``"signature"`` (the check failed) or
    ``"key"`` (the key cannot be used for this signature at all: unreadable, wrong type).
    """
