"""The signature algorithms weft signs and verifies with, by their RFC 9421 names (§3.3).

- ``rsa-v1_5-sha256``: RSASSA-PKCS1-v1_5 with SHA-256. This is also what draft-cavage's
  ``rsa-sha256`` is, and what Mastodon takes ``hs2019`` to mean with an RSA key.
- ``rsa-pss-sha512``: RSASSA-PSS with SHA-512, MGF1 with SHA-512 and a 64-byte salt.
- ``ed25519``: EdDSA over Curve25519 (RFC 8032).

Others (HMAC's shared secrets, ECDSA) are refused: no ActivityPub server publishes such keys.
Verification is the one place a key meets a signature, so a key that cannot verify the
algorithm named (an Ed25519 key for an RSA signature) is a :class:`SignatureMismatch` too:
the sender may have changed its key since it was fetched.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from weft.federation.httpsig_errors import SignatureMismatch
from weft.federation.httpsig_keys import PrivateKey, PublicKey

__all__ = ["ALGORITHMS", "algorithm_for_key", "sign_with", "verify_with"]

ALGORITHMS: Final = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")

_PSS_SALT_BYTES: Final = 64


def algorithm_for_key(key: PublicKey | PrivateKey) -> str:
    """The algorithm a key is used with when nothing names one (RSA: PKCS#1 v1.5, as the Fediverse does)."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "rsa-v1_5-sha256"
    return "ed25519"


def _fits(algorithm: str, key: PublicKey | PrivateKey) -> bool:
    if algorithm == "ed25519":
        return isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)
    return algorithm in ALGORITHMS and isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)


def _kind(key: PublicKey | PrivateKey) -> str:
    return "an RSA key" if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) else "an Ed25519 key"


def verify_with(algorithm: str, key: PublicKey, base: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``base`` under ``algorithm``.

    A key of the wrong type for the algorithm raises :class:`SignatureMismatch` (``"key"``).
    """
    if not _fits(algorithm, key):
        raise SignatureMismatch("key", f"the signature is {algorithm}, which {_kind(key)} cannot verify")
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, base)
        elif algorithm == "rsa-pss-sha512":
            key.verify(signature, base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()),
                                                    salt_length=_PSS_SALT_BYTES), hashes.SHA512())
        else:
            key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_with(algorithm: str, key: PrivateKey, base: bytes) -> bytes:
    """``key``'s signature of ``base`` under ``algorithm`` (a mismatch is the caller's bug: ValueError)."""
    if not _fits(algorithm, key):
        raise ValueError(f"{_kind(key)} cannot sign {algorithm}")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(base)
    if algorithm == "rsa-pss-sha512":
        return key.sign(base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=_PSS_SALT_BYTES),
                        hashes.SHA512())
    return key.sign(base, padding.PKCS1v15(), hashes.SHA256())
