"""A muxrpc session without I/O: bytes in, events out; calls in, bytes out.

A carrier (the box-stream, or anything that moves bytes in order) drives it::

    session = RpcSession()
    session.receive_data(chunk)              # b"" once the peer's bytes have ended
    while (event := session.next_event()) is not NEED_DATA:
        handle(event)                        # Closed is returned again on every call: stop there
    carrier.write(session.data_to_send())

Calls queue bytes rather than return them (as h2 does, unlike h11), so that a carrier can
put several packets into one box-stream frame, and so that the session can answer on its
own where the protocol leaves nothing to decide. Requests are named by the number this
side writes on their packets (see ``muxrpc_events``); each has two directions, closed on
their own, and is forgotten once both are. The rules, the limits and what happens to
packets for unknown numbers are in ``docs/protocol/rpc.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from weft.errors import RpcLocalProtocolError, RpcProtocolError, RpcRemoteProtocolError, UsageError
from weft.sync.muxrpc_events import (
    NEED_DATA,
    Closed,
    ErrorReceived,
    Event,
    NeedData,
    Request,
    RequestType,
    Response,
    StreamData,
    StreamEnded,
    carries_data,
    error_body,
    read_error,
    read_request,
    request_body,
)
from weft.sync.muxrpc_packets import (
    DEFAULT_MAX_BODY_BYTES,
    GOODBYE_BYTES,
    MAX_REQUEST_NUMBER,
    BodyType,
    Goodbye,
    Packet,
    PacketDecoder,
    RpcFailure,
    encode_packet,
)

__all__ = ["DEFAULT_MAX_OPEN_INCOMING", "RpcLimits", "RpcSession"]

# Replication needs a handful of requests per peer; 64 leaves room for later methods and
# keeps what one peer can make us track (64 records, no buffers) trivial.
DEFAULT_MAX_OPEN_INCOMING: Final = 64


@dataclass(frozen=True)
class RpcLimits:
    """What one peer may make a session hold.

    ``max_body_bytes`` bounds every packet, both ways: a longer one from the peer is its
    error (``oversize``), and we refuse to send one it might refuse in turn.
    ``max_open_incoming`` bounds the peer's requests that are not yet closed both ways.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_open_incoming: int = DEFAULT_MAX_OPEN_INCOMING

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_open_incoming < 1:
            raise UsageError("muxrpc limits must be at least 1")


@dataclass
class _Call:
    """A request this session still tracks: which directions are open."""

    kind: RequestType
    we_send: bool
    they_send: bool


class RpcSession:
    """One side of a muxrpc connection. Both sides are alike: each may call the other."""

    def __init__(self, limits: RpcLimits | None = None) -> None:
        self.limits = limits or RpcLimits()
        self._decoder = PacketDecoder(self.limits.max_body_bytes)
        self._calls: dict[int, _Call] = {}
        self._incoming = 0
        self._next_number = 1
        self._outbox = bytearray()
        self._eof = False
        self._closed: Closed | None = None
        self._said_goodbye = False
        self._error: RpcProtocolError | None = None
        self.ignored_packets = 0
        """Packets for numbers the session does not know, dropped (see the module doc)."""

    # -- state --------------------------------------------------------------------------

    @property
    def open_numbers(self) -> frozenset[int]:
        """The requests still tracked: some direction is open."""
        return frozenset(self._calls)

    def can_send(self, number: int) -> bool:
        """Whether our direction of request ``number`` is open (an end or error may follow)."""
        call = self._calls.get(number)
        return call is not None and call.we_send and not self._said_goodbye

    @contextmanager
    def _unless_broken(self) -> Iterator[None]:
        """h11's rule: after any protocol error, every call raises it again."""
        if self._error is not None:
            raise self._error
        try:
            yield
        except RpcProtocolError as exc:
            self._error = exc
            raise

    # -- receiving ----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer, cut anywhere; ``b""`` says the peer's bytes have ended."""
        with self._unless_broken():
            if self._eof:
                raise RpcLocalProtocolError(RpcFailure.CLOSED, "bytes received after their end")
            if data:
                self._decoder.receive_data(data)
            else:
                self._eof = True

    def next_event(self) -> Event | NeedData:
        """The next event, or ``NEED_DATA`` until more bytes arrive."""
        with self._unless_broken():
            while self._closed is None:
                item = self._decoder.next_packet()
                if item is None:
                    if not self._eof:
                        return NEED_DATA
                    if self._decoder.buffered:
                        raise RpcRemoteProtocolError(RpcFailure.TRUNCATED, f"the bytes ended "
                                                     f"{self._decoder.buffered} bytes into a packet")
                    self._closed = Closed(goodbye=False)
                elif isinstance(item, Goodbye):
                    self._closed = Closed(goodbye=True)
                else:
                    event = self._on_packet(item)
                    if event is not None:
                        return event
            return self._closed

    def _on_packet(self, packet: Packet) -> Event | None:
        number = -packet.number  # the number we write for the request this packet belongs to
        call = self._calls.get(number)
        if call is None:
            if number > 0 or packet.end_or_error:
                # A reply to a request we never made or have closed, or a late end for a
                # closed stream: the reference implementation drops these, and so do we.
                self.ignored_packets += 1
                return None
            return self._open_incoming(packet)
        if packet.stream != (call.kind is not RequestType.ASYNC):
            raise RpcRemoteProtocolError(RpcFailure.STREAM_FLAG_MISMATCH, f"stream flag "
                                         f"{packet.stream} on {call.kind} request {abs(number)}")
        if not call.they_send:
            raise RpcRemoteProtocolError(RpcFailure.AFTER_END,
                                         f"a packet on request {abs(number)} after the peer ended it")
        if call.kind is RequestType.ASYNC:
            self._close_theirs(number, call)
            if packet.end_or_error:
                return ErrorReceived(number, *read_error(packet))
            return Response(number, packet.value, packet.body_type)
        if not packet.end_or_error:
            if not carries_data(call.kind, requester=number < 0):
                raise RpcRemoteProtocolError(RpcFailure.UNEXPECTED_DATA, f"data on {call.kind} "
                                             f"request {abs(number)}, where the peer may only end")
            return StreamData(number, packet.value, packet.body_type)
        self._close_theirs(number, call)
        if packet.body_type is BodyType.JSON and packet.value is True:
            return StreamEnded(number)
        return ErrorReceived(number, *read_error(packet))

    def _open_incoming(self, packet: Packet) -> Request:
        if self._incoming >= self.limits.max_open_incoming:
            raise RpcRemoteProtocolError(RpcFailure.TOO_MANY_REQUESTS, f"request {packet.number} "
                                         f"while {self._incoming} are open; the limit is "
                                         f"{self.limits.max_open_incoming}")
        request = read_request(packet)
        streams = request.type is not RequestType.ASYNC
        self._calls[request.number] = _Call(request.type, we_send=True, they_send=streams)
        self._incoming += 1
        return request

    def _close_theirs(self, number: int, call: _Call) -> None:
        call.they_send = False
        if call.kind is RequestType.SOURCE and number > 0 and call.we_send:
            # Our direction of a source we asked for carries nothing but its end; once the
            # source has ended there is nothing left to say, and the responder cannot forget
            # the request until our end comes. Four bytes of body: no limit to check.
            if not self._said_goodbye:
                self._outbox += encode_packet(Packet.of(number, True, stream=True, end_or_error=True))
            call.we_send = False
        self._forget_if_closed(number, call)

    def _forget_if_closed(self, number: int, call: _Call) -> None:
        if not call.we_send and not call.they_send:
            del self._calls[number]
            if number < 0:
                self._incoming -= 1

    # -- sending ------------------------------------------------------------------------

    def request(self, name: Sequence[str], type: RequestType, args: Sequence[Any] = ()) -> int:
        """Call the peer's method ``name``; returns the number that names the request."""
        with self._unless_broken():
            self._check_can_speak()
            number = self._next_number
            if number > MAX_REQUEST_NUMBER:
                raise RpcLocalProtocolError(RpcFailure.EXHAUSTED, "all 2^31-1 request numbers used")
            streams = type is not RequestType.ASYNC
            self._queue(Packet.of(number, request_body(name, type, args), stream=streams))
            self._next_number += 1
            self._calls[number] = _Call(type, we_send=streams, they_send=True)
            return number

    def reply(self, number: int, value: Any, body_type: BodyType = BodyType.JSON) -> None:
        """Answer the peer's async request ``number`` (negative) with ``value``."""
        with self._unless_broken():
            call = self._open_call(number)
            if call.kind is not RequestType.ASYNC:
                raise RpcLocalProtocolError(RpcFailure.WRONG_ROLE,
                                            f"request {number} is a {call.kind}: use send and end")
            self._queue(Packet.of(number, value, body_type))
            self._close_ours(number, call)

    def send(self, number: int, value: Any, body_type: BodyType = BodyType.JSON) -> None:
        """One packet of data on stream ``number``, in our direction."""
        with self._unless_broken():
            call = self._open_call(number)
            if call.kind is RequestType.ASYNC:
                raise RpcLocalProtocolError(RpcFailure.WRONG_ROLE,
                                            f"request {number} is async: use reply")
            if not carries_data(call.kind, requester=number > 0):
                raise RpcLocalProtocolError(RpcFailure.WRONG_ROLE, f"our direction of {call.kind} "
                                            f"request {number} carries no data, only its end")
            self._queue(Packet.of(number, value, body_type, stream=True))

    def end(self, number: int) -> None:
        """Close our direction of stream ``number`` cleanly; the peer's may go on."""
        with self._unless_broken():
            call = self._open_call(number)
            if call.kind is RequestType.ASYNC:
                raise RpcLocalProtocolError(RpcFailure.WRONG_ROLE,
                                            f"request {number} is async: use reply or send_error")
            self._queue(Packet.of(number, True, stream=True, end_or_error=True))
            self._close_ours(number, call)

    def send_error(self, number: int, message: str, name: str = "Error") -> None:
        """Answer async request ``number``, or close our direction of a stream, with an error."""
        with self._unless_broken():
            call = self._open_call(number)
            self._queue(Packet.of(number, error_body(message, name),
                                  stream=call.kind is not RequestType.ASYNC, end_or_error=True))
            self._close_ours(number, call)

    def goodbye(self) -> None:
        """Say that we will send no more packets. Open requests get no further packets from us."""
        with self._unless_broken():
            self._check_can_speak()
            self._outbox += GOODBYE_BYTES
            self._said_goodbye = True

    def data_to_send(self) -> bytes:
        """The bytes queued since the last call, for the carrier to write in order."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def _check_can_speak(self) -> None:
        if self._said_goodbye:
            raise RpcLocalProtocolError(RpcFailure.CLOSED, "we said goodbye: nothing more may be sent")

    def _open_call(self, number: int) -> _Call:
        self._check_can_speak()
        call = self._calls.get(number)
        if call is None or not call.we_send:
            raise RpcLocalProtocolError(RpcFailure.NOT_OPEN,
                                        f"our direction of request {number} is not open")
        return call

    def _close_ours(self, number: int, call: _Call) -> None:
        call.we_send = False
        self._forget_if_closed(number, call)

    def _queue(self, packet: Packet) -> None:
        if len(packet.body) > self.limits.max_body_bytes:
            raise RpcLocalProtocolError(RpcFailure.OVERSIZE, f"a {len(packet.body)}-byte body; "
                                        f"the limit is {self.limits.max_body_bytes} bytes")
        self._outbox += encode_packet(packet)
