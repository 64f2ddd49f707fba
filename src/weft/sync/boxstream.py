"""Box-stream: the encrypted framing that follows the secret handshake, without I/O.

Each direction has its own key and starting nonce (``weft.sync.shs.BoxStreamKeys``). Data
travels in frames of at most 4096 bytes of body; each frame is a 34-byte header, boxed
(XSalsa20-Poly1305, ``crypto_secretbox``) under the current nonce, holding the body's
length and the body's 16-byte MAC, followed by the body boxed under the next nonce without
its MAC. The nonce then moves on by two. An encrypted header of 18 zero bytes says goodbye:
the sender will send nothing more. See ``docs/protocol/transport.md``.

Every byte on the wire is authenticated, and the nonce sequence makes frames impossible to
drop, repeat or reorder unnoticed. A stream that ends without goodbye has been cut short;
the decoder reports it rather than pass it off as a clean end.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions

from weft.errors import BoxStreamError, KeyFormatError, TransportClosed

__all__ = [
    "HEADER_BYTES",
    "MAX_BODY_BYTES",
    "BoxStreamDecoder",
    "BoxStreamEncoder",
    "BoxStreamFailure",
]

MAX_BODY_BYTES: Final = 4096
HEADER_BYTES: Final = 34            # boxed: 16-byte MAC | 2-byte length | 16-byte body MAC
_MAC_BYTES: Final = 16
_GOODBYE: Final = bytes(18)
_NONCE_MODULUS: Final = 1 << 192


class BoxStreamFailure(StrEnum):
    """Why the peer's box-stream was refused; the ``code`` of :class:`BoxStreamError`."""

    TAMPERED_HEADER = "tampered_header"
    TAMPERED_BODY = "tampered_body"
    OVERSIZE_BODY = "oversize_body"
    AFTER_GOODBYE = "after_goodbye"
    TRUNCATED = "truncated"


def _next_nonce(nonce: bytes) -> bytes:
    """The nonce as a 192-bit big-endian counter, plus one (wrapping, as libsodium's peers do)."""
    return ((int.from_bytes(nonce, "big") + 1) % _NONCE_MODULUS).to_bytes(24, "big")


def _check(key: bytes, nonce: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != 32:
        raise KeyFormatError("a box-stream key is 32 bytes")
    if not isinstance(nonce, bytes) or len(nonce) != 24:
        raise KeyFormatError("a box-stream nonce is 24 bytes")


class BoxStreamEncoder:
    """Turns plaintext into frames for one direction of a stream (ours to the peer)."""

    def __init__(self, key: bytes, nonce: bytes) -> None:
        _check(key, nonce)
        self._key = key
        self._nonce = nonce
        self.ended = False

    def encode(self, data: bytes) -> bytes:
        """The frames that carry ``data`` (none for empty data), split at MAX_BODY_BYTES."""
        if self.ended:
            raise TransportClosed("this box-stream already said goodbye")
        return b"".join(self._frame(data[start:start + MAX_BODY_BYTES])
                        for start in range(0, len(data), MAX_BODY_BYTES))

    def goodbye(self) -> bytes:
        """The goodbye header; the encoder refuses further data afterwards."""
        if self.ended:
            raise TransportClosed("this box-stream already said goodbye")
        self.ended = True
        header: bytes = sodium.crypto_secretbox(_GOODBYE, self._nonce, self._key)
        return header

    def _frame(self, body: bytes) -> bytes:
        body_nonce = _next_nonce(self._nonce)
        boxed_body: bytes = sodium.crypto_secretbox(body, body_nonce, self._key)
        header = len(body).to_bytes(2, "big") + boxed_body[:_MAC_BYTES]
        boxed_header: bytes = sodium.crypto_secretbox(header, self._nonce, self._key)
        self._nonce = _next_nonce(body_nonce)
        return boxed_header + boxed_body[_MAC_BYTES:]


class BoxStreamDecoder:
    """Turns the peer's frames, in chunks of any size, back into plaintext.

    ``receive_data`` buffers; ``next_body`` returns each body in order, or None until more
    bytes arrive or once goodbye has come (``ended``). After any error it stays failed.
    """

    def __init__(self, key: bytes, nonce: bytes) -> None:
        _check(key, nonce)
        self._key = key
        self._nonce = nonce
        self._buffer = bytearray()
        self._body_header: tuple[int, bytes] | None = None  # (length, MAC) of the body due next
        self.ended = False
        self.failure: BoxStreamError | None = None

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the peer; they are checked when ``next_body`` reaches them."""
        self._check_usable()
        if self.ended and data:
            raise self._break(BoxStreamFailure.AFTER_GOODBYE,
                              f"{len(data)} bytes arrived after the peer's goodbye")
        self._buffer += data

    def receive_eof(self) -> None:
        """The carrier closed: fine after goodbye, otherwise the stream was cut short."""
        self._check_usable()
        if self.ended:
            return
        if self._body_header is not None:
            where = f"inside a body ({len(self._buffer)} of {self._body_header[0]} bytes)"
        else:
            where = f"with {len(self._buffer)} bytes of a header" if self._buffer else "between frames"
        raise self._break(BoxStreamFailure.TRUNCATED,
                          f"the stream ended without goodbye, {where}")

    def next_body(self) -> bytes | None:
        """The next body, or None if it has not fully arrived (or the stream has ended)."""
        self._check_usable()
        while not self.ended:
            if self._body_header is None:
                if len(self._buffer) < HEADER_BYTES:
                    return None
                self._read_header()
                continue
            length, mac = self._body_header
            if len(self._buffer) < length:
                return None
            boxed = mac + bytes(self._buffer[:length])
            body_nonce = _next_nonce(self._nonce)
            try:
                body: bytes = sodium.crypto_secretbox_open(boxed, body_nonce, self._key)
            except nacl.exceptions.CryptoError:
                raise self._break(BoxStreamFailure.TAMPERED_BODY,
                                  "a body does not match the MAC in its header") from None
            del self._buffer[:length]
            self._body_header = None
            self._nonce = _next_nonce(body_nonce)
            return body
        return None

    def _read_header(self) -> None:
        try:
            header: bytes = sodium.crypto_secretbox_open(
                bytes(self._buffer[:HEADER_BYTES]), self._nonce, self._key)
        except nacl.exceptions.CryptoError:
            raise self._break(BoxStreamFailure.TAMPERED_HEADER,
                              "a header does not open: tampered with, reordered, or not for "
                              "these keys") from None
        del self._buffer[:HEADER_BYTES]
        if header == _GOODBYE:
            self.ended = True
            if self._buffer:
                raise self._break(BoxStreamFailure.AFTER_GOODBYE,
                                  f"{len(self._buffer)} bytes followed the peer's goodbye")
            return
        length = int.from_bytes(header[:2], "big")
        if length > MAX_BODY_BYTES:
            raise self._break(BoxStreamFailure.OVERSIZE_BODY,
                              f"a header announces {length} bytes of body; at most "
                              f"{MAX_BODY_BYTES} are allowed")
        self._body_header = (length, header[2:])

    def _check_usable(self) -> None:
        if self.failure is not None:
            raise TransportClosed(f"this box-stream already failed ({self.failure})")

    def _break(self, code: BoxStreamFailure, message: str) -> BoxStreamError:
        self.failure = BoxStreamError(code.value, f"{code.value}: {message}")
        self._buffer.clear()
        return self.failure
