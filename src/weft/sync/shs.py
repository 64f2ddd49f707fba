"""The Scuttlebutt secret handshake, version 1 (SHS), for both roles, without I/O.

Four fixed-size messages authenticate two Ed25519 keys to each other and agree the keys of
the box-stream that follows (``weft.sync.boxstream``). The byte layouts and derivations are
in ``docs/protocol/transport.md``; they are Scuttlebutt's, so that the same code can later
speak to Scuttlebutt peers when given Scuttlebutt's network key.

A handshake object takes bytes in (``receive_data``, ``receive_eof``) and hands bytes out
(``data_to_send``); it never touches a socket or a clock, so the asyncio adapter, the
shs1-test executables and the tests drive the same code. The ephemeral secret is drawn
fresh unless a test passes one in. Every failure raises :class:`HandshakeFailed` with a
:class:`HandshakeFailure` code, queues nothing more to send, and leaves the object failed:
further use raises :class:`TransportClosed`.

Names follow the protocol guide: ``a``/``b`` are the client's and server's ephemeral
Curve25519 keys, ``A``/``B`` their long-term Ed25519 keys, and ``ab``, ``aB``, ``Ab`` the
three Diffie-Hellman secrets between them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from weft.core.keys import BadSignature, SigningKey, verify
from weft.errors import HandshakeFailed, KeyFormatError, TransportClosed

__all__ = [
    "CLIENT_AUTH_BYTES",
    "CLIENT_HELLO_BYTES",
    "NETWORK_KEY_LABEL",
    "SCUTTLEBUTT_NETWORK_KEY",
    "SERVER_ACCEPT_BYTES",
    "SERVER_HELLO_BYTES",
    "WEFT_NETWORK_KEY",
    "BoxStreamKeys",
    "ClientHandshake",
    "HandshakeComplete",
    "HandshakeFailure",
    "HandshakeState",
    "ServerHandshake",
]

# Peers on different network keys cannot even complete msg1, which keeps weft nodes and
# Scuttlebutt's main network apart while they share one protocol.
NETWORK_KEY_LABEL: Final = b"weft secret-handshake network key v1"
WEFT_NETWORK_KEY: Final = hashlib.sha256(NETWORK_KEY_LABEL).digest()
SCUTTLEBUTT_NETWORK_KEY: Final = bytes.fromhex(
    "d4a1cb88a66f02f8db635ce26441cc5dac1b08420ceaac230839b755845a9ffb")

CLIENT_HELLO_BYTES: Final = 64   # msg1: hmac(network key, a) | a
SERVER_HELLO_BYTES: Final = 64   # msg2: hmac(network key, b) | b
CLIENT_AUTH_BYTES: Final = 112   # msg3: secretbox(signature by A | A)
SERVER_ACCEPT_BYTES: Final = 80  # msg4: secretbox(signature by B)

_ZERO_NONCE: Final = bytes(24)


class HandshakeFailure(StrEnum):
    """Why a handshake failed; the ``code`` of :class:`HandshakeFailed`."""

    WRONG_NETWORK_KEY = "wrong_network_key"
    LOW_ORDER_KEY = "low_order_key"
    BAD_CLIENT_AUTH = "bad_client_auth"
    BAD_CLIENT_SIGNATURE = "bad_client_signature"
    BAD_SERVER_ACCEPT = "bad_server_accept"
    BAD_SERVER_SIGNATURE = "bad_server_signature"
    UNEXPECTED_DATA = "unexpected_data"
    PEER_CLOSED = "peer_closed"
    TIMEOUT = "timeout"


class HandshakeState(Enum):
    """Where a handshake stands: which message it waits for, or how it ended."""

    AWAIT_CLIENT_HELLO = "msg1 (client hello)"
    AWAIT_SERVER_HELLO = "msg2 (server hello)"
    AWAIT_CLIENT_AUTH = "msg3 (client authenticate)"
    AWAIT_SERVER_ACCEPT = "msg4 (server accept)"
    COMPLETE = "complete"
    FAILED = "failed"


_MESSAGE_BYTES: Final = {
    HandshakeState.AWAIT_CLIENT_HELLO: CLIENT_HELLO_BYTES,
    HandshakeState.AWAIT_SERVER_HELLO: SERVER_HELLO_BYTES,
    HandshakeState.AWAIT_CLIENT_AUTH: CLIENT_AUTH_BYTES,
    HandshakeState.AWAIT_SERVER_ACCEPT: SERVER_ACCEPT_BYTES,
}


@dataclass(frozen=True)
class BoxStreamKeys:
    """The keys and starting nonces of both directions of a box-stream. Never printed."""

    encrypt_key: bytes = field(repr=False)
    encrypt_nonce: bytes = field(repr=False)
    decrypt_key: bytes = field(repr=False)
    decrypt_nonce: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if (len(self.encrypt_key), len(self.decrypt_key)) != (32, 32):
            raise KeyFormatError("a box-stream key is 32 bytes")
        if (len(self.encrypt_nonce), len(self.decrypt_nonce)) != (24, 24):
            raise KeyFormatError("a box-stream nonce is 24 bytes")

    def to_bytes(self) -> bytes:
        """encrypt key | encrypt nonce | decrypt key | decrypt nonce: the shs1-test outcome."""
        return self.encrypt_key + self.encrypt_nonce + self.decrypt_key + self.decrypt_nonce


@dataclass(frozen=True)
class HandshakeComplete:
    """The handshake succeeded: who the peer is, and the keys of the stream with it."""

    peer_public_key: bytes
    keys: BoxStreamKeys

    def __post_init__(self) -> None:
        if len(self.peer_public_key) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")


def _auth(key: bytes, message: bytes) -> bytes:
    """libsodium's crypto_auth (HMAC-SHA-512-256), which PyNaCl's bindings do not expose."""
    return hmac.new(key, message, hashlib.sha512).digest()[:32]


def _sha256(data: bytes) -> bytes:
    digest: bytes = sodium.crypto_hash_sha256(data)
    return digest


def _fail(code: HandshakeFailure, message: str) -> HandshakeFailed:
    return HandshakeFailed(code.value, f"{code.value}: {message}")


def _curve_public(ed25519_public: bytes) -> bytes:
    """The Curve25519 form of an Ed25519 public key; CryptoError if it is not a curve point."""
    converted: bytes = sodium.crypto_sign_ed25519_pk_to_curve25519(ed25519_public)
    return converted


def _curve_secret(key: SigningKey) -> bytes:
    _, secret = sodium.crypto_sign_seed_keypair(key.seed)
    converted: bytes = sodium.crypto_sign_ed25519_sk_to_curve25519(secret)
    return converted


def _diffie_hellman(secret: bytes, public: bytes, whose: str) -> bytes:
    # libsodium refuses low-order points (an all-zero secret), which a peer could send to
    # force a known shared secret; that is the peer's fault, not a library error.
    try:
        shared: bytes = sodium.crypto_scalarmult(secret, public)
    except nacl.exceptions.CryptoError:
        raise _fail(HandshakeFailure.LOW_ORDER_KEY, f"{whose} is a low-order point") from None
    return shared


class _Handshake:
    """What both roles share: buffering, the step table, failing for good, the key schedule."""

    def __init__(self, state: HandshakeState, network_key: bytes, signing_key: SigningKey,
                 ephemeral_secret: bytes | None) -> None:
        if not isinstance(network_key, bytes) or len(network_key) != 32:
            raise KeyFormatError("a network key is 32 bytes")
        if ephemeral_secret is None:
            ephemeral_secret = nacl.utils.random(32)
        if not isinstance(ephemeral_secret, bytes) or len(ephemeral_secret) != 32:
            raise KeyFormatError("an ephemeral Curve25519 secret is 32 bytes")
        self.state = state
        self.network_key = network_key
        self.signing_key = signing_key
        self.ephemeral_public: bytes = sodium.crypto_scalarmult_base(ephemeral_secret)
        self.result: HandshakeComplete | None = None
        self.failure: HandshakeFailed | None = None
        self.unused_data = b""
        """Bytes that came after the last handshake message: the start of the box-stream."""
        self._ephemeral_secret = ephemeral_secret
        self._peer_ephemeral = b""
        self._ab = self._aB = b""
        self._received = bytearray()
        self._outgoing = bytearray()
        self._steps: dict[HandshakeState, Callable[[bytes], None]] = {}

    def data_to_send(self) -> bytes:
        """The bytes to write to the peer now (possibly none)."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes) -> HandshakeComplete | None:
        """Take bytes from the peer; the completion event once the last message checks out.

        Raises HandshakeFailed if the peer misbehaves. Handshake messages are read whole,
        one per reply: bytes beyond a message the peer could not have sent yet (it waits
        for our reply) are a failure, while bytes beyond the last message are kept in
        ``unused_data`` for the box-stream.
        """
        if self.state is HandshakeState.FAILED:
            raise TransportClosed(f"the handshake already failed ({self.failure})")
        if self.state is HandshakeState.COMPLETE:
            raise TransportClosed("the handshake is complete: feed the box-stream instead")
        self._received += data
        expected = _MESSAGE_BYTES[self.state]
        if len(self._received) < expected:
            return None
        message, rest = bytes(self._received[:expected]), bytes(self._received[expected:])
        self._received.clear()
        try:
            self._steps[self.state](message)
            if rest and self.result is None:
                raise _fail(HandshakeFailure.UNEXPECTED_DATA,
                            f"{len(rest)} bytes arrived after {self.state.value} was due, "
                            "before the peer could have seen our reply")
        except HandshakeFailed as failure:
            self._break(failure)
            raise
        if self.result is not None:
            self.unused_data = rest
        return self.result

    def receive_eof(self) -> None:
        """The peer closed the connection: a failure unless the handshake already ended."""
        if self.state is HandshakeState.COMPLETE:
            return
        if self.state is HandshakeState.FAILED:
            raise TransportClosed(f"the handshake already failed ({self.failure})")
        failure = _fail(HandshakeFailure.PEER_CLOSED,
                        f"the peer closed the connection after {len(self._received)} of the "
                        f"{_MESSAGE_BYTES[self.state]} bytes of {self.state.value}")
        self._break(failure)
        raise failure

    def fail(self, failure: HandshakeFailed) -> None:
        """Mark the handshake failed from outside (a timeout in the adapter)."""
        if self.state is not HandshakeState.COMPLETE:
            self._break(failure)

    def _break(self, failure: HandshakeFailed) -> None:
        self.state = HandshakeState.FAILED
        self.failure = failure
        self._outgoing.clear()  # a failed handshake says nothing more to the peer
        self._forget_secrets()

    def _forget_secrets(self) -> None:
        self._ephemeral_secret = self._ab = self._aB = b""

    def _hello(self) -> bytes:
        return _auth(self.network_key, self.ephemeral_public) + self.ephemeral_public

    def _open_hello(self, message: bytes, whose: str) -> bytes:
        mac, ephemeral_public = message[:32], message[32:]
        if not hmac.compare_digest(mac, _auth(self.network_key, ephemeral_public)):
            raise _fail(HandshakeFailure.WRONG_NETWORK_KEY,
                        f"the {whose} hello is not authenticated with our network key")
        self._peer_ephemeral = ephemeral_public
        return ephemeral_public

    def _complete(self, peer_public_key: bytes, msg4_box_key: bytes) -> None:
        shared = _sha256(msg4_box_key)
        self.result = HandshakeComplete(peer_public_key, BoxStreamKeys(
            encrypt_key=_sha256(shared + peer_public_key),
            encrypt_nonce=_auth(self.network_key, self._peer_ephemeral)[:24],
            decrypt_key=_sha256(shared + self.signing_key.public_key),
            decrypt_nonce=_auth(self.network_key, self.ephemeral_public)[:24],
        ))
        self.state = HandshakeState.COMPLETE
        self._forget_secrets()


class ClientHandshake(_Handshake):
    """The dialling side: knows the server's long-term key before it connects.

    msg1 is queued at once; write ``data_to_send()`` before the first read.
    """

    def __init__(self, *, network_key: bytes, signing_key: SigningKey, server_public_key: bytes,
                 ephemeral_secret: bytes | None = None) -> None:
        super().__init__(HandshakeState.AWAIT_SERVER_HELLO, network_key, signing_key,
                         ephemeral_secret)
        if not isinstance(server_public_key, bytes) or len(server_public_key) != 32:
            raise KeyFormatError("the server's public key is 32 bytes")
        try:
            self._server_curve = _curve_public(server_public_key)
        except nacl.exceptions.CryptoError:
            raise KeyFormatError("the server's public key is not an Ed25519 point") from None
        self.server_public_key = server_public_key
        self._client_auth_plaintext = b""
        self._steps = {HandshakeState.AWAIT_SERVER_HELLO: self._on_server_hello,
                       HandshakeState.AWAIT_SERVER_ACCEPT: self._on_server_accept}
        self._outgoing += self._hello()

    def _on_server_hello(self, message: bytes) -> None:
        b = self._open_hello(message, "server")
        self._ab = _diffie_hellman(self._ephemeral_secret, b, "the server's ephemeral key")
        self._aB = _diffie_hellman(self._ephemeral_secret, self._server_curve,
                                   "the server's long-term key")
        signature = self.signing_key.sign(
            self.network_key + self.server_public_key + _sha256(self._ab))
        self._client_auth_plaintext = signature + self.signing_key.public_key
        box_key = _sha256(self.network_key + self._ab + self._aB)
        self._outgoing += sodium.crypto_secretbox(self._client_auth_plaintext, _ZERO_NONCE, box_key)
        self.state = HandshakeState.AWAIT_SERVER_ACCEPT

    def _on_server_accept(self, message: bytes) -> None:
        Ab = _diffie_hellman(_curve_secret(self.signing_key), self._peer_ephemeral,
                             "the server's ephemeral key")
        box_key = _sha256(self.network_key + self._ab + self._aB + Ab)
        try:
            signature = sodium.crypto_secretbox_open(message, _ZERO_NONCE, box_key)
        except nacl.exceptions.CryptoError:
            raise _fail(HandshakeFailure.BAD_SERVER_ACCEPT,
                        "msg4 does not open under the keys we agreed") from None
        try:
            verify(self.server_public_key, self.network_key + self._client_auth_plaintext
                   + _sha256(self._ab), signature)
        except BadSignature:
            raise _fail(HandshakeFailure.BAD_SERVER_SIGNATURE,
                        "msg4 is not signed by the server key we dialled") from None
        self._complete(self.server_public_key, box_key)


class ServerHandshake(_Handshake):
    """The listening side: learns who the client is from msg3."""

    def __init__(self, *, network_key: bytes, signing_key: SigningKey,
                 ephemeral_secret: bytes | None = None) -> None:
        super().__init__(HandshakeState.AWAIT_CLIENT_HELLO, network_key, signing_key,
                         ephemeral_secret)
        self._steps = {HandshakeState.AWAIT_CLIENT_HELLO: self._on_client_hello,
                       HandshakeState.AWAIT_CLIENT_AUTH: self._on_client_auth}

    def _on_client_hello(self, message: bytes) -> None:
        a = self._open_hello(message, "client")
        self._ab = _diffie_hellman(self._ephemeral_secret, a, "the client's ephemeral key")
        self._aB = _diffie_hellman(_curve_secret(self.signing_key), a, "the client's ephemeral key")
        self._outgoing += self._hello()
        self.state = HandshakeState.AWAIT_CLIENT_AUTH

    def _on_client_auth(self, message: bytes) -> None:
        try:
            plaintext = sodium.crypto_secretbox_open(
                message, _ZERO_NONCE, _sha256(self.network_key + self._ab + self._aB))
        except nacl.exceptions.CryptoError:
            raise _fail(HandshakeFailure.BAD_CLIENT_AUTH,
                        "msg3 does not open under the keys we agreed (did the client dial "
                        "another server key?)") from None
        signature, A = plaintext[:64], plaintext[64:]
        try:
            verify(A, self.network_key + self.signing_key.public_key + _sha256(self._ab), signature)
            client_curve = _curve_public(A)
        except (BadSignature, nacl.exceptions.CryptoError):
            raise _fail(HandshakeFailure.BAD_CLIENT_SIGNATURE,
                        "msg3's signature is not by the key it names") from None
        Ab = _diffie_hellman(self._ephemeral_secret, client_curve, "the client's long-term key")
        box_key = _sha256(self.network_key + self._ab + self._aB + Ab)
        accept = self.signing_key.sign(self.network_key + plaintext + _sha256(self._ab))
        self._outgoing += sodium.crypto_secretbox(accept, _ZERO_NONCE, box_key)
        self._complete(A, box_key)
