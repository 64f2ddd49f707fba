"""What one peer may make a session hold: open requests and packet size, with the reason named."""

from __future__ import annotations

import pytest

from weft.errors import RpcLocalProtocolError, RpcRemoteProtocolError, UsageError
from weft.sync.muxrpc import DEFAULT_MAX_OPEN_INCOMING, RpcLimits, RpcSession
from weft.sync.muxrpc_events import Request, RequestType, StreamData, StreamEnded
from weft.sync.muxrpc_packets import (
    DEFAULT_MAX_BODY_BYTES,
    BodyType,
    Packet,
    RpcFailure,
    encode_packet,
)

from .muxrpc_link import Link, drain

ASYNC, SOURCE, DUPLEX = RequestType.ASYNC, RequestType.SOURCE, RequestType.DUPLEX


def test_one_request_more_than_the_limit_is_the_peers_error_with_the_reason() -> None:
    link = Link(b=RpcLimits(max_open_incoming=3))
    for _ in range(3):
        link.a.request(["m"], DUPLEX)
    assert len(link.to_b()) == 3
    link.a.request(["m"], ASYNC)
    with pytest.raises(RpcRemoteProtocolError) as caught:
        link.to_b()
    assert caught.value.code == RpcFailure.TOO_MANY_REQUESTS == "too_many_requests"
    assert "limit is 3" in str(caught.value)
    assert str(caught.value).startswith("too_many_requests:")


def test_the_default_limit_holds_against_a_flood() -> None:
    session = RpcSession()
    flood = b"".join(encode_packet(Packet.of(n, {"name": ["m"], "type": "async", "args": []}))
                     for n in range(1, DEFAULT_MAX_OPEN_INCOMING + 2))
    session.receive_data(flood)
    with pytest.raises(RpcRemoteProtocolError) as caught:
        drain(session)
    assert caught.value.code == RpcFailure.TOO_MANY_REQUESTS
    assert len(session.open_numbers) == DEFAULT_MAX_OPEN_INCOMING


def test_an_answered_request_frees_its_place() -> None:
    link = Link(b=RpcLimits(max_open_incoming=2))
    link.a.request(["m"], ASYNC)
    link.a.request(["m"], ASYNC)
    link.to_b()
    link.b.reply(-1, "done")
    link.flush()
    link.a.request(["m"], ASYNC)
    assert link.to_b() == [Request(-3, ("m",), ASYNC, ())]


def test_a_stream_holds_its_place_until_both_directions_are_closed() -> None:
    link = Link(b=RpcLimits(max_open_incoming=1))
    link.a.request(["chat"], DUPLEX)
    link.to_b()
    link.b.end(-1)  # b's direction closed, a's still open: still counted
    link.flush()
    link.a.request(["m"], ASYNC)
    with pytest.raises(RpcRemoteProtocolError) as caught:
        link.to_b()
    assert caught.value.code == RpcFailure.TOO_MANY_REQUESTS


def test_a_source_the_responder_ended_is_freed_by_the_requesters_answer() -> None:
    link = Link(b=RpcLimits(max_open_incoming=1))
    link.a.request(["count"], SOURCE)
    link.to_b()
    link.b.end(-1)
    link.flush()  # a answers the end by itself
    link.a.request(["count"], SOURCE)
    assert link.to_b() == [Request(-2, ("count",), SOURCE, ())]


def test_our_own_requests_do_not_count_against_the_peers_limit() -> None:
    link = Link(a=RpcLimits(max_open_incoming=1))
    for _ in range(5):
        link.a.request(["m"], ASYNC)
    link.b.request(["m"], ASYNC)
    at_a, _ = link.flush()
    assert at_a == [Request(-1, ("m",), ASYNC, ())]


def test_an_oversize_packet_is_the_peers_error_as_soon_as_its_header_arrives() -> None:
    session = RpcSession(RpcLimits(max_body_bytes=1024))
    packet = encode_packet(Packet.of(1, b"x" * 1025, BodyType.BINARY, stream=True))
    session.receive_data(packet[:9])
    with pytest.raises(RpcRemoteProtocolError) as caught:
        session.next_event()
    assert caught.value.code == RpcFailure.OVERSIZE
    assert "1025" in str(caught.value) and "1024" in str(caught.value)


def test_a_packet_of_exactly_the_limit_passes() -> None:
    link = Link(b=RpcLimits(max_body_bytes=1024))
    link.a.request(["store"], RequestType.SINK)
    link.a.send(1, b"x" * 1024, BodyType.BINARY)
    assert link.to_b()[1] == StreamData(-1, b"x" * 1024, BodyType.BINARY)


def test_we_refuse_to_send_what_our_limit_would_refuse() -> None:
    session = RpcSession(RpcLimits(max_body_bytes=1024))
    session.request(["chat"], DUPLEX)
    with pytest.raises(RpcLocalProtocolError) as caught:
        session.send(1, "é" * 513, BodyType.STRING)  # 1026 bytes of UTF-8
    assert caught.value.code == RpcFailure.OVERSIZE


def test_the_default_body_limit_is_256_kib() -> None:
    assert RpcSession().limits.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 256 * 1024


@pytest.mark.parametrize("limits", [{"max_body_bytes": 0}, {"max_open_incoming": 0}])
def test_limits_below_one_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(UsageError):
        RpcLimits(**limits)


def test_a_peer_cannot_reopen_a_number_it_still_holds_open() -> None:
    link = Link()
    link.a.request(["chat"], DUPLEX)
    link.to_b()
    link.a.end(1)
    assert link.to_b() == [StreamEnded(-1)]
    link.b.receive_data(encode_packet(Packet.of(1, {"name": ["chat"], "type": "duplex", "args": []},
                                                stream=True)))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        link.b.next_event()
    assert caught.value.code == RpcFailure.AFTER_END
