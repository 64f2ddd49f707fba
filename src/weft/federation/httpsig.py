"""HTTP signatures for ActivityPub, without I/O: sign what weft sends, check what it receives.

weft signs every outgoing request as Mastodon does (draft-cavage-http-signatures-12,
``(request-target) host date digest``, rsa-sha256, ``Digest: SHA-256=``; see
:mod:`.httpsig_cavage`). It accepts draft-cavage signatures (rsa-sha256 and hs2019) and
RFC 9421 message signatures (:mod:`.httpsig_rfc9421`) under Mastodon's rules: the date within
its window, the method, target, host and date covered, a body's digest covered and matching.

Checking is split in two so that the network stays with the caller::

    signed = parse(method=..., url=..., headers=..., body=..., now=clock())  # step A, no key
    key = keys.get(signed.key_id) or fetch_actor_key(signed.key_id)        # the caller's I/O
    try:
        verify(signed, key)                                                 # step B
    except SignatureMismatch:
        verify(signed, fetch_actor_key(signed.key_id, fresh=True))          # rotated? once more

Whether the key's owner is the actor of the activity is the caller's check, as is fetching.
Every refusal raises :class:`SignatureRejected` with a message saying what is wrong;
:class:`SignatureMismatch` is the one a fresh key may cure. ``now`` is milliseconds since the
Unix epoch. The protocol as weft speaks it: ``docs/protocol/http-signatures.md``.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from weft.errors import KeyFormatError
from weft.federation import httpsig_cavage, httpsig_rfc9421
from weft.federation.httpsig_algorithms import ALGORITHMS, algorithm_for_key, verify_with
from weft.federation.httpsig_errors import SignatureMismatch, SignatureRejected
from weft.federation.httpsig_keys import (
    PrivateKey,
    PublicKey,
    generate_rsa_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)
from weft.federation.httpsig_message import HeaderInput, Request, SignatureRequest

__all__ = [
    "HeaderInput",
    "PrivateKey",
    "PublicKey",
    "SignatureMismatch",
    "SignatureRejected",
    "SignatureRequest",
    "generate_rsa_key",
    "load_private_key",
    "load_public_key",
    "parse",
    "private_key_pem",
    "public_key_pem",
    "sign",
    "verify",
]


def sign(*, method: str, url: str, headers: HeaderInput, body: bytes | None,
         private_key: rsa.RSAPrivateKey, key_id: str, now: int) -> dict[str, str]:
    """The headers to add (Host, Date, Digest when there is a body, Signature) to send a request.

    ``key_id`` is the signing actor's key URL (``https://host/users/alice#main-key``);
    ``body`` is None for a request without one (a GET).
    """
    return httpsig_cavage.sign(method, url, headers, body, private_key=private_key, key_id=key_id, now=now)


def parse(*, method: str, url: str, headers: HeaderInput, body: bytes | None, now: int) -> SignatureRequest:
    """Step A: read the signature of a received request and run every check that needs no key.

    ``url`` is the absolute URL the request was sent to, as this server sees it (scheme,
    Host, path and query). A ``Signature-Input`` header makes it an RFC 9421 signature (as
    Mastodon decides), else the ``Signature`` header is read as draft-cavage. Raises
    :class:`SignatureRejected`; the result names the key to look up.
    """
    request = Request.of(method, url, headers, body)
    if request.has("signature-input"):
        return httpsig_rfc9421.parse(request, now)
    if request.has("signature"):
        return httpsig_cavage.parse(request, now)
    raise SignatureRejected("missing", "the request is not signed: it has neither a Signature nor a Signature-Input header")


def verify(request: SignatureRequest, key: PublicKey | str | bytes, *, algorithm: str | None = None) -> None:
    """Step B: check the signature with the sender's public key; return quietly or raise.

    ``key`` is a PEM (held to :func:`load_public_key`'s rules: RSA of 2048 bits or more, or
    Ed25519) or a key object the caller already loaded, and trusts, that way. ``algorithm``
    is what the key's owner says it signs with, for an RFC 9421 signature that names none
    (RFC 9421 §3.3.7); otherwise an RSA key means rsa-v1_5-sha256. A key that does not
    verify the signature raises :class:`SignatureMismatch`.
    """
    public = key if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey) else _load(key)
    chosen = _algorithm(request, public, algorithm)
    if not any(verify_with(chosen, public, base, request.signature) for base in request.bases):
        raise SignatureMismatch("signature", f"the signature does not verify with the key given for {request.key_id} ({chosen})")


def _load(pem: str | bytes) -> PublicKey:
    try:
        return _loaded(pem)
    except KeyFormatError as error:
        raise SignatureMismatch("key", f"the key given for the signature cannot be used: {error}") from None


# An inbox verifies many deliveries with the keys of a few senders: reading a PEM and
# checking its strength costs as much as the RSA verification itself. Key objects are
# immutable, so one loaded from the same text serves every later request.
@lru_cache(maxsize=1024)
def _loaded(pem: str | bytes) -> PublicKey:
    return load_public_key(pem)


def _algorithm(request: SignatureRequest, key: PublicKey, told: str | None) -> str:
    if told is not None and told not in ALGORITHMS:
        raise SignatureRejected("algorithm", f"the key's algorithm {told!r} is not accepted: only {', '.join(ALGORITHMS)} are")
    if request.scheme == "draft-cavage":
        if request.algorithm == "rsa-sha256" and not isinstance(key, rsa.RSAPublicKey):
            raise SignatureMismatch("key", "the signature is rsa-sha256, which an Ed25519 key cannot verify")
        return algorithm_for_key(key)
    if request.algorithm and told is not None and told != request.algorithm:
        raise SignatureMismatch("key", f"the signature says {request.algorithm}, but the key is for {told}")
    return request.algorithm or told or algorithm_for_key(key)
