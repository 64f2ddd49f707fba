"""The ``exchanges`` part of the RPC vectors: two sessions calling each other, recorded.

Each exchange is a script of calls on two sessions, ``a`` and ``b``. After each step every
byte either side queued is delivered to the other, until both are quiet, and each
transmission is recorded with its bytes, the packets in it and the events its receiver saw.
Bytes a session queued by itself (a requester's answer to the end of a source) appear as
transmissions of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weft.sync.muxrpc import RpcSession
from weft.sync.muxrpc_events import (
    NEED_DATA,
    Closed,
    ErrorReceived,
    Event,
    Request,
    RequestType,
    Response,
    StreamData,
    StreamEnded,
)
from weft.sync.muxrpc_packets import BodyType, Goodbye, Packet, PacketDecoder

__all__ = ["build_exchanges", "describe_event", "describe_packet", "drain"]

STRING, BINARY = BodyType.STRING, BodyType.BINARY
ASYNC, SOURCE, SINK, DUPLEX = RequestType.ASYNC, RequestType.SOURCE, RequestType.SINK, RequestType.DUPLEX


def describe_packet(packet: Packet) -> dict[str, Any]:
    """A packet as JSON: text bodies as text, binary bodies as hex."""
    body = ({"body_hex": packet.body.hex()} if packet.body_type is BINARY
            else {"body_text": packet.body.decode("utf-8")})
    return {"number": packet.number, "stream": packet.stream, "end_or_error": packet.end_or_error,
            "body_type": packet.body_type.name.lower(), **body}


def describe_event(event: Event) -> dict[str, Any]:
    """An event as JSON, named by its class."""
    described: dict[str, Any] = {"event": type(event).__name__}
    if isinstance(event, Request):
        described |= {"number": event.number, "name": list(event.name), "type": event.type.value,
                      "args": list(event.args)}
    elif isinstance(event, Response | StreamData):
        value = event.value.hex() if event.body_type is BINARY else event.value
        described |= {"number": event.number, "body_type": event.body_type.name.lower(),
                      ("value_hex" if event.body_type is BINARY else "value"): value}
    elif isinstance(event, StreamEnded):
        described |= {"number": event.number}
    elif isinstance(event, ErrorReceived):
        described |= {"number": event.number, "name": event.name, "message": event.message}
    elif isinstance(event, Closed):
        described |= {"goodbye": event.goodbye}
    return described


def drain(session: RpcSession) -> list[Event]:
    """Every event the session can hand back now (stopping at Closed, which repeats)."""
    events: list[Event] = []
    while (event := session.next_event()) is not NEED_DATA:
        events.append(event)
        if isinstance(event, Closed):
            break
    return events


Action = Callable[[RpcSession, RpcSession], object]


class _Exchange:
    """Two sessions that record every transmission between them."""

    def __init__(self) -> None:
        self.sides = {"a": RpcSession(), "b": RpcSession()}
        self.steps: list[dict[str, Any]] = []

    def do(self, says: str, actions: list[Action]) -> None:
        for action in actions:
            action(self.sides["a"], self.sides["b"])
        transmissions = []
        while pending := [(name, data) for name, side in self.sides.items()
                          if (data := side.data_to_send())]:
            for sender, data in pending:
                receiver = "b" if sender == "a" else "a"
                self.sides[receiver].receive_data(data)
                transmissions.append({
                    "from": sender, "bytes_hex": data.hex(), "packets": _split(data),
                    "events": [describe_event(e) for e in drain(self.sides[receiver])]})
        self.steps.append({"action": says, "transmissions": transmissions})


def _split(data: bytes) -> list[dict[str, Any]]:
    decoder = PacketDecoder()
    decoder.receive_data(data)
    packets = []
    while (packet := decoder.next_packet()) is not None:
        packets.append({"goodbye": True} if isinstance(packet, Goodbye) else describe_packet(packet))
    return packets


def build_exchanges() -> list[dict[str, Any]]:
    """Each exchange: its name, what it shows, and its steps, transmission by transmission."""
    # (name, description, [(what is done, as text; the calls that do it)])
    scripts: list[tuple[str, str, list[tuple[str, list[Action]]]]] = [
        ("async_call", "a calls b once; b answers", [
            ("a.request(['example','add'], async, [2, 3])",
             [lambda a, b: a.request(["example", "add"], ASYNC, [2, 3])]),
            ("b.reply(-1, 5)", [lambda a, b: b.reply(-1, 5)]),
        ]),
        ("async_error", "a calls b; b answers with an error", [
            ("a.request(['example','divide'], async, [1, 0])",
             [lambda a, b: a.request(["example", "divide"], ASYNC, [1, 0])]),
            ("b.send_error(-1, 'division by zero')", [lambda a, b: b.send_error(-1, "division by zero")]),
        ]),
        ("crossed_requests", "both call at once: each side's first request is 1, and the signs keep "
         "them apart", [
            ("a.request(['example','add'], async, [1, 1]); b.request(['example','add'], async, [2, 2])",
             [lambda a, b: a.request(["example", "add"], ASYNC, [1, 1]),
              lambda a, b: b.request(["example", "add"], ASYNC, [2, 2])]),
            ("a.reply(-1, 4); b.reply(-1, 2)", [lambda a, b: a.reply(-1, 4), lambda a, b: b.reply(-1, 2)]),
        ]),
        ("source_stream", "a reads a source to its end; a answers b's end with its own", [
            ("a.request(['example','count'], source, [{'to': 2}])",
             [lambda a, b: a.request(["example", "count"], SOURCE, [{"to": 2}])]),
            ("b.send(-1, 1); b.send(-1, 2); b.end(-1)",
             [lambda a, b: b.send(-1, 1), lambda a, b: b.send(-1, 2), lambda a, b: b.end(-1)]),
        ]),
        ("source_cancelled", "a stops a source early; b ends its side when it sees that", [
            ("a.request(['example','count'], source, [{'to': 100}])",
             [lambda a, b: a.request(["example", "count"], SOURCE, [{"to": 100}])]),
            ("b.send(-1, 1)", [lambda a, b: b.send(-1, 1)]),
            ("a.end(1)", [lambda a, b: a.end(1)]),
            ("b.end(-1)", [lambda a, b: b.end(-1)]),
        ]),
        ("sink", "a writes binary data into b's sink; b ends its side last, with true", [
            ("a.request(['example','store'], sink, [])",
             [lambda a, b: a.request(["example", "store"], SINK, [])]),
            ("a.send(1, 00 01 02, binary); a.send(1, ff, binary); a.end(1)",
             [lambda a, b: a.send(1, b"\x00\x01\x02", BINARY), lambda a, b: a.send(1, b"\xff", BINARY),
              lambda a, b: a.end(1)]),
            ("b.end(-1)", [lambda a, b: b.end(-1)]),
        ]),
        ("duplex_with_ends", "each side of a duplex ends on its own; a keeps sending after b ended", [
            ("a.request(['example','chat'], duplex, ['hi'])",
             [lambda a, b: a.request(["example", "chat"], DUPLEX, ["hi"])]),
            ("a.send(1, 'ping', string); b.send(-1, 'pong', string)",
             [lambda a, b: a.send(1, "ping", STRING), lambda a, b: b.send(-1, "pong", STRING)]),
            ("b.end(-1)", [lambda a, b: b.end(-1)]),
            ("a.send(1, 'still here', string); a.end(1)",
             [lambda a, b: a.send(1, "still here", STRING), lambda a, b: a.end(1)]),
        ]),
        ("stream_error", "b closes its side of a duplex with an error; a ends its own", [
            ("a.request(['example','chat'], duplex, [])",
             [lambda a, b: a.request(["example", "chat"], DUPLEX, [])]),
            ("b.send_error(-1, 'too slow')", [lambda a, b: b.send_error(-1, "too slow")]),
            ("a.end(1)", [lambda a, b: a.end(1)]),
        ]),
        ("goodbye", "a says goodbye, then b", [
            ("a.goodbye()", [lambda a, b: a.goodbye()]),
            ("b.goodbye()", [lambda a, b: b.goodbye()]),
        ]),
    ]
    exchanges = []
    for name, why, steps in scripts:
        exchange = _Exchange()
        for says, actions in steps:
            exchange.do(says, actions)
        leftover = sorted(exchange.sides["a"].open_numbers | exchange.sides["b"].open_numbers)
        if leftover:
            raise AssertionError(f"exchange {name} leaves requests open: {leftover}")
        exchanges.append({"name": name, "description": why, "steps": exchange.steps})
    return exchanges
