"""Muxrpc packets: the framing under weft's RPC, without I/O.

A packet is a 9-byte header and a body. The header is one flags byte (bit 3: part of a
stream; bit 2: end or error; bits 0-1: the body type, 0 binary, 1 UTF-8 string, 2 JSON;
bits 4-7 zero), the body length as a 4-byte big-endian unsigned integer, and the request
number as a 4-byte big-endian signed integer. Nine zero bytes in place of a header say
goodbye: the sender will send no more packets. See ``docs/protocol/rpc.md``.

The decoder takes bytes in chunks of any size, cut anywhere, and hands back whole packets.
It refuses a body longer than its ``max_body_bytes`` as soon as it has read the header, so
a peer cannot make it hold more than one header and one body of that size beyond what the
carrier hands in at once.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cached_property
from typing import Any, Final, NoReturn

import orjson

from weft.errors import RpcLocalProtocolError, RpcRemoteProtocolError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "GOODBYE_BYTES",
    "HEADER_BYTES",
    "MAX_REQUEST_NUMBER",
    "BodyType",
    "Goodbye",
    "Packet",
    "PacketDecoder",
    "RpcFailure",
    "encode_packet",
]

HEADER_BYTES: Final = 9
GOODBYE_BYTES: Final = bytes(HEADER_BYTES)
MAX_REQUEST_NUMBER: Final = 2**31 - 1
# Four times the largest replication batch (64 KiB): room for a batch in JSON or a long
# clock, small enough that a hundred peers cannot make a node hold much.
DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024

_HEADER: Final = struct.Struct(">BIi")
_STREAM: Final = 0b1000
_END_OR_ERROR: Final = 0b0100
_BODY_TYPE: Final = 0b0011


class RpcFailure(StrEnum):
    """Why a packet or a session was refused: the ``code`` of an :class:`RpcProtocolError`."""

    UNKNOWN_FLAGS = "unknown_flags"
    UNKNOWN_BODY_TYPE = "unknown_body_type"
    ZERO_REQUEST_NUMBER = "zero_request_number"
    OVERSIZE = "oversize"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    AFTER_GOODBYE = "after_goodbye"
    TRUNCATED = "truncated"
    BAD_REQUEST = "bad_request"
    TOO_MANY_REQUESTS = "too_many_requests"
    STREAM_FLAG_MISMATCH = "stream_flag_mismatch"
    AFTER_END = "after_end"
    UNEXPECTED_DATA = "unexpected_data"
    # Only this side can cause these: the caller asked for something the rules forbid.
    NOT_OPEN = "not_open"
    WRONG_ROLE = "wrong_role"
    UNENCODABLE = "unencodable"
    CLOSED = "closed"
    EXHAUSTED = "exhausted"


class BodyType(IntEnum):
    """How a packet's body is to be read (the two low bits of the flags)."""

    BINARY = 0
    STRING = 1
    JSON = 2


@dataclass(frozen=True)
class Goodbye:
    """The all-zero header: the peer will send no more packets."""


@dataclass(frozen=True)
class Packet:
    """One muxrpc packet, checked when it is made: a packet that exists is well formed.

    ``number`` is the request number as written on the wire: positive on a request and on
    the requester's later packets, negated on the responder's. ``body`` is always the raw
    bytes; ``value`` reads them according to ``body_type`` (bytes, str, or a JSON value).
    A malformed packet raises :class:`RpcLocalProtocolError`; the decoder turns that into
    the peer's error.
    """

    number: int
    body_type: BodyType
    body: bytes
    stream: bool = False
    end_or_error: bool = False

    def __post_init__(self) -> None:
        if type(self.number) is not int or not -(2**31) <= self.number <= MAX_REQUEST_NUMBER:
            raise RpcLocalProtocolError(RpcFailure.UNENCODABLE,
                                        f"request number {self.number!r} is not a 32-bit integer")
        if self.number == 0:
            raise RpcLocalProtocolError(RpcFailure.ZERO_REQUEST_NUMBER,
                                        "request number 0 is only valid in the goodbye header")
        if not isinstance(self.body_type, BodyType):
            raise RpcLocalProtocolError(RpcFailure.UNKNOWN_BODY_TYPE,
                                        f"body type {self.body_type!r} is not 0, 1 or 2")
        if not isinstance(self.body, bytes):
            raise RpcLocalProtocolError(RpcFailure.UNENCODABLE, "a packet body is bytes")
        if len(self.body) > 0xFFFF_FFFF:
            raise RpcLocalProtocolError(RpcFailure.OVERSIZE, "a body is at most 2^32-1 bytes")
        if self.body_type is not BodyType.BINARY:
            self.value  # noqa: B018  (reading it checks the body, and caches what it read)

    @cached_property
    def value(self) -> Any:
        """The body as bytes (binary), str (string) or the decoded JSON value (JSON)."""
        if self.body_type is BodyType.BINARY:
            return self.body
        if self.body_type is BodyType.STRING:
            try:
                return self.body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RpcLocalProtocolError(RpcFailure.INVALID_UTF8,
                                            f"string body is not UTF-8: {exc.reason} at byte "
                                            f"{exc.start}") from None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise RpcLocalProtocolError(RpcFailure.INVALID_JSON,
                                        f"JSON body does not parse: {exc}") from None

    @classmethod
    def of(cls, number: int, value: Any, body_type: BodyType = BodyType.JSON, *,
           stream: bool = False, end_or_error: bool = False) -> Packet:
        """A packet carrying ``value``: bytes for binary, str for string, any JSON value for JSON."""
        return cls(number, body_type, encode_body(value, body_type), stream, end_or_error)


def encode_body(value: Any, body_type: BodyType) -> bytes:
    """The body bytes for ``value`` read as ``body_type``; refuses a value of the wrong kind."""
    if body_type is BodyType.BINARY:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise RpcLocalProtocolError(RpcFailure.UNENCODABLE,
                                        f"a binary body is bytes, not {type(value).__name__}")
        return bytes(value)
    if body_type is BodyType.STRING:
        if not isinstance(value, str):
            raise RpcLocalProtocolError(RpcFailure.UNENCODABLE,
                                        f"a string body is str, not {type(value).__name__}")
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise RpcLocalProtocolError(RpcFailure.UNENCODABLE,
                                        "a string body cannot hold lone surrogates") from None
    try:
        return orjson.dumps(value)
    except TypeError as exc:  # orjson.JSONEncodeError subclasses TypeError
        raise RpcLocalProtocolError(RpcFailure.UNENCODABLE, f"not encodable as JSON: {exc}") from None


def encode_packet(packet: Packet) -> bytes:
    """The packet's bytes on the wire: header, then body."""
    flags = packet.body_type | (_STREAM if packet.stream else 0) | (
        _END_OR_ERROR if packet.end_or_error else 0)
    return _HEADER.pack(flags, len(packet.body), packet.number) + packet.body


class PacketDecoder:
    """Bytes in, packets out: ``receive_data`` any chunks, then ``next_packet`` until ``None``.

    After goodbye, any further byte is the peer's error. After an error the decoder stays
    broken and raises the same error again, so a caller cannot read past a bad packet.
    """

    def __init__(self, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._start = 0  # bytes at the front of _buffer already handed out
        self._said_goodbye = False
        self._error: RpcRemoteProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet handed out as packets (a partial packet at most, once drained)."""
        return len(self._buffer) - self._start

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; nothing is parsed until ``next_packet``."""
        self._raise_if_broken()
        if self._said_goodbye and data:
            self._fail(RpcFailure.AFTER_GOODBYE, f"{len(data)} bytes after goodbye")
        # Drop what was handed out once per chunk rather than once per packet, so that a
        # chunk holding many small packets costs linear time, not quadratic.
        del self._buffer[:self._start]
        self._start = 0
        self._buffer += data

    def next_packet(self) -> Packet | Goodbye | None:
        """The next whole packet, :class:`Goodbye`, or ``None`` until more bytes arrive."""
        self._raise_if_broken()
        start = self._start
        if self._said_goodbye or len(self._buffer) - start < HEADER_BYTES:
            return None
        flags, length, number = _HEADER.unpack_from(self._buffer, start)
        if flags == 0 and length == 0 and number == 0:
            self._said_goodbye = True
            self._start += HEADER_BYTES
            if self.buffered:
                self._fail(RpcFailure.AFTER_GOODBYE, f"{self.buffered} bytes after goodbye")
            return Goodbye()
        if flags & ~(_STREAM | _END_OR_ERROR | _BODY_TYPE):
            self._fail(RpcFailure.UNKNOWN_FLAGS, f"flags 0x{flags:02x} set bits 4-7, which are unused")
        if flags & _BODY_TYPE == 3:
            self._fail(RpcFailure.UNKNOWN_BODY_TYPE, "body type 3 is not defined")
        if number == 0:
            self._fail(RpcFailure.ZERO_REQUEST_NUMBER, "request number 0 outside a goodbye header")
        if length > self.max_body_bytes:
            self._fail(RpcFailure.OVERSIZE,
                       f"a {length}-byte body; the limit is {self.max_body_bytes} bytes")
        end = start + HEADER_BYTES + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[start + HEADER_BYTES:end])
        self._start = end
        try:
            return Packet(number, BodyType(flags & _BODY_TYPE), body,
                          bool(flags & _STREAM), bool(flags & _END_OR_ERROR))
        except RpcLocalProtocolError as exc:
            self._fail(RpcFailure(exc.code), str(exc))

    def _fail(self, code: RpcFailure, message: str) -> NoReturn:
        self._error = RpcRemoteProtocolError(code, message)
        raise self._error

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise self._error
