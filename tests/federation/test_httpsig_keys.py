"""Actor keys: made at 2048 bits, written as Mastodon publishes them, and read only when strong."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from weft.errors import KeyFormatError
from weft.federation.httpsig import (
    generate_rsa_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)

from . import httpsig_testdata as data

KEY = generate_rsa_key()


def test_a_new_key_is_rsa_2048_with_the_usual_exponent() -> None:
    assert KEY.key_size == 2048
    assert KEY.public_key().public_numbers().e == 65537


def test_the_public_key_is_published_as_subject_public_key_info() -> None:
    pem = public_key_pem(KEY)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n") and pem.endswith("-----END PUBLIC KEY-----\n")
    assert public_key_pem(KEY.public_key()) == pem
    loaded = load_public_key(pem)
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == KEY.public_key().public_numbers()


def test_the_private_key_round_trips_as_pkcs8() -> None:
    pem = private_key_pem(KEY)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    loaded = load_private_key(pem)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == KEY.private_numbers()
    assert isinstance(load_private_key(data.RSA_PRIVATE), rsa.RSAPrivateKey)   # PKCS#1 is read too


def test_pkcs1_public_keys_are_read_as_some_servers_publish_them() -> None:
    pkcs1 = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1).decode()
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    assert isinstance(load_public_key(pkcs1), rsa.RSAPublicKey)


def test_ed25519_keys_are_read_for_rfc9421() -> None:
    assert isinstance(load_public_key(data.ED25519_PUBLIC), ed25519.Ed25519PublicKey)
    assert isinstance(load_private_key(data.ED25519_PRIVATE), ed25519.Ed25519PrivateKey)


def test_weak_rsa_keys_are_refused() -> None:
    with pytest.raises(KeyFormatError, match="1024 bits; at least 2048 are required"):
        load_public_key(data.CAVAGE_PUBLIC)
    with pytest.raises(KeyFormatError, match="1024 bits; at least 2048 are required"):
        load_private_key(data.CAVAGE_PRIVATE)


def test_other_key_types_are_refused() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyFormatError, match=r"an elliptic-curve \(ECDSA\) key; HTTP signatures here use RSA"):
        load_public_key(public_key_pem_of(p256.public_key()))
    with pytest.raises(KeyFormatError, match="an elliptic-curve"):
        load_private_key(private_key_pem_of(p256))


def public_key_pem_of(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def private_key_pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.mark.parametrize(("pem", "reason"), [
    ("", "is not a PEM key that can be read"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "is not a PEM key that can be read"),
    ("-----BEGIN PUBLIC KEY-----\nclé\n-----END PUBLIC KEY-----", "not ASCII"),
    ("A" * 20_000, "at most 16384"),
    (data.RSA_PRIVATE, "is not a PEM key that can be read"),
], ids=["empty", "garbage", "not-ascii", "huge", "a-private-key"])
def test_unreadable_public_keys_say_why(pem: str, reason: str) -> None:
    with pytest.raises(KeyFormatError, match=reason):
        load_public_key(pem)


def test_an_encrypted_private_key_is_refused() -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, PrivateFormat
    locked = KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"secret")).decode()
    with pytest.raises(KeyFormatError, match="not an unencrypted PEM key"):
        load_private_key(locked)
