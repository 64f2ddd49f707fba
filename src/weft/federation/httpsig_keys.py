"""RSA keys for HTTP signatures: made, written and read as Mastodon publishes them.

Every ActivityPub actor publishes ``publicKey.publicKeyPem``: a SubjectPublicKeyInfo PEM
(``-----BEGIN PUBLIC KEY-----``) of an RSA key, 2048 bits on Mastodon. weft makes its
actors' keys the same way and keeps the private half as unencrypted PKCS#8 PEM (the vault
that stores it does its own encryption).

Reading a remote key is where weakness gets in, so :func:`load_public_key` refuses anything
but RSA of at least 2048 bits or Ed25519 (which only RFC 9421 signatures use). PKCS#1
(``BEGIN RSA PUBLIC KEY``) is read too, since some servers publish that. The checks run on
the PEM text; verification itself takes the loaded key object, so a caller that caches keys
parses each one once.
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from weft.errors import KeyFormatError

__all__ = [
    "MIN_RSA_BITS",
    "PrivateKey",
    "PublicKey",
    "generate_rsa_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
]

MIN_RSA_BITS = 2048
# Mastodon's size; larger keys verify slower (4096 bits: about four times) for no gain here.
RSA_BITS = 2048
# Keys of a megabyte are not keys: refuse before the parser spends time on them.
_MAX_PEM_CHARS = 16_384

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key with the usual public exponent, as every actor of weft gets."""
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def private_key_pem(key: PrivateKey) -> str:
    """The private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")


def public_key_pem(key: PrivateKey | PublicKey) -> str:
    """The public half as SubjectPublicKeyInfo PEM: what goes into ``publicKey.publicKeyPem``."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_key(pem: str | bytes) -> PublicKey:
    """Read a published public key; refuse what is not RSA of 2048 bits or more, or Ed25519.

    Raises :class:`weft.errors.KeyFormatError` saying what is wrong with it.
    """
    data = _pem_bytes(pem, "public")
    try:
        key = load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise KeyFormatError(f"the public key is not a PEM key that can be read: {error}") from None
    return _strong_enough(key)


def load_private_key(pem: str | bytes) -> PrivateKey:
    """Read an unencrypted PEM private key (PKCS#8 or PKCS#1) held to the same rules."""
    data = _pem_bytes(pem, "private")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFormatError(f"the private key is not an unencrypted PEM key that can be read: {error}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        _strong_enough(key.public_key())
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise KeyFormatError(f"the private key is {_kind(key)}; HTTP signatures here use RSA or Ed25519")


def _pem_bytes(pem: str | bytes, half: str) -> bytes:
    if isinstance(pem, str):
        try:
            pem = pem.encode("ascii")
        except UnicodeEncodeError:
            raise KeyFormatError(f"the {half} key PEM has characters that are not ASCII") from None
    if len(pem) > _MAX_PEM_CHARS:
        raise KeyFormatError(f"the {half} key PEM is {len(pem)} bytes long; a key takes at most {_MAX_PEM_CHARS}")
    return pem.strip()


def _strong_enough(key: object) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise KeyFormatError(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise KeyFormatError(f"the key is {_kind(key)}; HTTP signatures here use RSA (2048 bits or more) or Ed25519")


def _kind(key: object) -> str:
    kinds = ((ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey, "an elliptic-curve (ECDSA) key"),
             (dsa.DSAPublicKey, dsa.DSAPrivateKey, "a DSA key"),
             (ed448.Ed448PublicKey, ed448.Ed448PrivateKey, "an Ed448 key"),
             (x25519.X25519PublicKey, x25519.X25519PrivateKey, "an X25519 key"))
    return next((name for public, private, name in kinds if isinstance(key, public | private)),
                f"a key of type {type(key).__name__}")
