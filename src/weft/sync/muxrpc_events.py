"""What a muxrpc session hands back, and the JSON bodies of requests and errors.

Every event names its request by the number *this side* writes on that request's packets:
positive for requests this side made (1, 2, 3 …), negative for the peer's (the peer's
request 1 is -1 here, because replies to it carry -1). One signed number is then enough to
tell a request of ours from the peer's request of the same number, and it is exactly the
number to hand back to the session's send methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Final

from weft.errors import RpcLocalProtocolError, RpcRemoteProtocolError
from weft.sync.muxrpc_packets import BodyType, Packet, RpcFailure

__all__ = [
    "NEED_DATA",
    "Closed",
    "ErrorReceived",
    "Event",
    "NeedData",
    "Request",
    "RequestType",
    "Response",
    "StreamData",
    "StreamEnded",
    "carries_data",
    "error_body",
    "read_error",
    "read_request",
    "request_body",
]


class RequestType(StrEnum):
    """The four kinds of call, as named in a request's ``type``."""

    ASYNC = "async"      # one reply
    SOURCE = "source"    # the responder streams; the requester may only end
    SINK = "sink"        # the requester streams; the responder may only end
    DUPLEX = "duplex"    # both stream, and each direction ends on its own


def carries_data(kind: RequestType, requester: bool) -> bool:
    """Whether the requester's (or else the responder's) direction of a stream carries data."""
    if kind is RequestType.DUPLEX:
        return True
    return kind is (RequestType.SINK if requester else RequestType.SOURCE)


class NeedData(Enum):
    """``next_event()`` has nothing whole to hand back until more bytes arrive."""

    NEED_DATA = "need_data"


NEED_DATA: Final = NeedData.NEED_DATA


@dataclass(frozen=True)
class Request:
    """The peer opened a request (``number`` is negative: ours to answer with)."""

    number: int
    name: tuple[str, ...]
    type: RequestType
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Response:
    """The one reply to an async request of ours."""

    number: int
    value: Any
    body_type: BodyType


@dataclass(frozen=True)
class StreamData:
    """One packet of data on a stream, ours or the peer's."""

    number: int
    value: Any
    body_type: BodyType


@dataclass(frozen=True)
class StreamEnded:
    """The peer closed its direction of a stream cleanly (an end packet with body ``true``)."""

    number: int


@dataclass(frozen=True)
class ErrorReceived:
    """The peer answered an async request with an error, or closed its direction of a stream
    with one. ``name`` and ``message`` are the peer's words, to log, never to trust."""

    number: int
    name: str
    message: str


@dataclass(frozen=True)
class Closed:
    """The peer will send nothing more: it said goodbye, or (``goodbye=False``) the bytes
    stopped at a packet boundary without one. Open requests get no further packets."""

    goodbye: bool


Event = Request | Response | StreamData | StreamEnded | ErrorReceived | Closed

_REQUEST_TYPES: Final = frozenset(kind.value for kind in RequestType)


def _method_name(name: Any, error: type[RpcLocalProtocolError | RpcRemoteProtocolError],
                 ) -> tuple[str, ...]:
    if not isinstance(name, tuple | list) or not name or not all(
            isinstance(part, str) and part for part in name):
        raise error(RpcFailure.BAD_REQUEST, f"a method name is a list of non-empty strings, not {name!r}")
    return tuple(name)


def request_body(name: Sequence[str], type: RequestType, args: Sequence[Any]) -> dict[str, Any]:
    """The JSON body of a request, keys in the order the Scuttlebutt guide shows them."""
    if isinstance(name, str):
        raise RpcLocalProtocolError(RpcFailure.BAD_REQUEST,
                                    f"a method name is a list of strings: [{name!r}], not {name!r}")
    parts = _method_name(tuple(name), RpcLocalProtocolError)
    if not isinstance(type, RequestType):
        raise RpcLocalProtocolError(RpcFailure.BAD_REQUEST, f"unknown request type {type!r}")
    return {"name": list(parts), "type": type.value, "args": list(args)}


def read_request(packet: Packet) -> Request:
    """The peer's request carried by ``packet`` (the first packet with a number new to us).

    Keys other than ``name``, ``type`` and ``args`` are ignored, as the reference
    implementation ignores them, so that a peer may add some later.
    """
    body = packet.value if packet.body_type is BodyType.JSON else None
    if not isinstance(body, dict):
        raise RpcRemoteProtocolError(RpcFailure.BAD_REQUEST,
                                     f"request {packet.number} is not a JSON object")
    name = _method_name(body.get("name"), RpcRemoteProtocolError)
    kind, args = body.get("type"), body.get("args")
    if not isinstance(kind, str) or kind not in _REQUEST_TYPES:
        raise RpcRemoteProtocolError(RpcFailure.BAD_REQUEST,
                                     f"request {packet.number} has unknown type {kind!r}")
    if not isinstance(args, list):
        raise RpcRemoteProtocolError(RpcFailure.BAD_REQUEST,
                                     f"request {packet.number}: args is a list, not {args!r}")
    request_type = RequestType(kind)
    if packet.stream != (request_type is not RequestType.ASYNC):
        raise RpcRemoteProtocolError(
            RpcFailure.STREAM_FLAG_MISMATCH,
            f"{request_type} request {packet.number} with the stream flag "
            f"{'set' if packet.stream else 'clear'}")
    return Request(-packet.number, name, request_type, tuple(args))


def error_body(message: str, name: str = "Error") -> dict[str, str]:
    """The JSON body of an error; no stack, which would tell a peer about our code."""
    if not isinstance(message, str) or not isinstance(name, str):
        raise RpcLocalProtocolError(RpcFailure.UNENCODABLE, "an error's name and message are strings")
    return {"name": name, "message": message}


def read_error(packet: Packet) -> tuple[str, str]:
    """(name, message) of an error packet, whatever the peer put in it.

    Errors are for logs, not for decisions, so any body is accepted: an object with a string
    ``message`` (and ``name``) as Scuttlebutt sends, or anything else, shown as it came.
    """
    value = packet.value
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        name = value.get("name")
        return (name if isinstance(name, str) else "Error"), value["message"]
    if packet.body_type is BodyType.STRING:
        return "Error", value
    if packet.body_type is BodyType.BINARY:
        return "Error", f"(a binary error body of {len(value)} bytes)"
    return "Error", packet.body.decode("utf-8")
