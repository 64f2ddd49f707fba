"""Two muxrpc sessions wired together over a fake link, for the session tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from weft.sync.muxrpc import RpcLimits, RpcSession
from weft.sync.muxrpc_events import NEED_DATA, Closed, Event

Chunker = Callable[[bytes], Iterator[bytes]]


def whole(data: bytes) -> Iterator[bytes]:
    yield data


def drain(session: RpcSession) -> list[Event]:
    """Every event the session has whole now (stopping at Closed, which repeats)."""
    events: list[Event] = []
    while (event := session.next_event()) is not NEED_DATA:
        events.append(event)
        if isinstance(event, Closed):
            break
    return events


class Link:
    """``a`` and ``b``, each reading what the other queued when the test says ``flush``.

    ``chunker`` cuts every transmission into the pieces the receiver is fed, so that tests
    can check that where the bytes are cut never matters.
    """

    def __init__(self, a: RpcLimits | None = None, b: RpcLimits | None = None,
                 chunker: Chunker = whole) -> None:
        self.a, self.b = RpcSession(a), RpcSession(b)
        self.chunker = chunker
        self.wire: list[tuple[str, bytes]] = []

    def flush(self) -> tuple[list[Event], list[Event]]:
        """Deliver until neither side has bytes to send; the events (at a, at b)."""
        at_a: list[Event] = []
        at_b: list[Event] = []
        while True:
            to_b, to_a = self.a.data_to_send(), self.b.data_to_send()
            if not to_a and not to_b:
                return at_a, at_b
            for sender, data, receiver, events in (("a", to_b, self.b, at_b), ("b", to_a, self.a, at_a)):
                if data:
                    self.wire.append((sender, data))
                    for chunk in self.chunker(data):
                        receiver.receive_data(chunk)
                        events += drain(receiver)

    def to_b(self) -> list[Event]:
        """Deliver a's bytes (and any answers), and return what b saw."""
        return self.flush()[1]

    def to_a(self) -> list[Event]:
        """Deliver b's bytes (and any answers), and return what a saw."""
        return self.flush()[0]
