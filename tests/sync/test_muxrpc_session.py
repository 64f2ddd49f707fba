"""Two muxrpc sessions talking over a fake link: every kind of call, ends and errors both ways."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.errors import RpcLocalProtocolError, RpcRemoteProtocolError
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
from weft.sync.muxrpc_packets import GOODBYE_BYTES, BodyType, Packet, RpcFailure, encode_packet

from .muxrpc_link import Link, drain

ASYNC, SOURCE, SINK, DUPLEX = RequestType.ASYNC, RequestType.SOURCE, RequestType.SINK, RequestType.DUPLEX


@pytest.fixture
def link() -> Link:
    return Link()


def closed_both_ways(link: Link) -> bool:
    return not link.a.open_numbers and not link.b.open_numbers


# -- async --------------------------------------------------------------------------------


def test_an_async_call_gets_one_reply(link: Link) -> None:
    number = link.a.request(["example", "add"], ASYNC, [2, 3])
    assert number == 1
    assert link.to_b() == [Request(-1, ("example", "add"), ASYNC, (2, 3))]
    link.b.reply(-1, 5)
    assert link.to_a() == [Response(1, 5, BodyType.JSON)]
    assert closed_both_ways(link)


def test_an_async_call_can_fail(link: Link) -> None:
    link.a.request(["example", "divide"], ASYNC, [1, 0])
    link.to_b()
    link.b.send_error(-1, "division by zero")
    assert link.to_a() == [ErrorReceived(1, "Error", "division by zero")]
    assert link.wire[-1][1][0] == 0b0110  # JSON, end/error, not a stream
    assert closed_both_ways(link)


def test_replies_can_be_binary_or_text(link: Link) -> None:
    link.a.request(["blob"], ASYNC)
    link.a.request(["name"], ASYNC)
    link.to_b()
    link.b.reply(-2, "alice", BodyType.STRING)
    link.b.reply(-1, b"\x00\xff", BodyType.BINARY)
    assert link.to_a() == [Response(2, "alice", BodyType.STRING), Response(1, b"\x00\xff", BodyType.BINARY)]


def test_our_requests_count_up_and_the_peers_have_their_own_numbers(link: Link) -> None:
    assert [link.a.request(["m"], ASYNC) for _ in range(3)] == [1, 2, 3]
    assert link.b.request(["m"], ASYNC) == 1
    at_a, at_b = link.flush()
    assert [e.number for e in at_b if isinstance(e, Request)] == [-1, -2, -3]
    assert at_a == [Request(-1, ("m",), ASYNC, ())]


# -- source -----------------------------------------------------------------------------


def test_a_source_streams_to_its_end_and_the_requester_answers_the_end(link: Link) -> None:
    link.a.request(["count"], SOURCE, [{"to": 2}])
    assert link.to_b() == [Request(-1, ("count",), SOURCE, ({"to": 2},))]
    link.b.send(-1, 1)
    link.b.send(-1, 2)
    link.b.end(-1)
    at_a, at_b = link.flush()
    assert at_a == [StreamData(1, 1, BodyType.JSON), StreamData(1, 2, BodyType.JSON), StreamEnded(1)]
    assert at_b == [StreamEnded(-1)]  # a's end, sent by a's session on its own
    assert closed_both_ways(link)


def test_the_requester_can_cancel_a_source_and_the_responder_ends_when_it_likes(link: Link) -> None:
    link.a.request(["count"], SOURCE)
    link.to_b()
    link.a.end(1)
    assert link.to_b() == [StreamEnded(-1)]
    assert link.b.can_send(-1) and not link.a.can_send(1)
    link.b.send(-1, "in flight")
    link.b.end(-1)
    assert link.to_a() == [StreamData(1, "in flight", BodyType.JSON), StreamEnded(1)]
    assert closed_both_ways(link)


def test_a_source_that_fails_is_ended_by_the_requester_too(link: Link) -> None:
    link.a.request(["count"], SOURCE)
    link.to_b()
    link.b.send_error(-1, "disk on fire", name="IOError")
    at_a, at_b = link.flush()
    assert at_a == [ErrorReceived(1, "IOError", "disk on fire")]
    assert at_b == [StreamEnded(-1)]
    assert closed_both_ways(link)


# -- sink -------------------------------------------------------------------------------


def test_a_sink_takes_data_until_the_requester_ends_and_then_the_responder_answers(link: Link) -> None:
    link.a.request(["store"], SINK)
    link.to_b()
    link.a.send(1, b"\x01", BodyType.BINARY)
    link.a.send(1, b"\x02", BodyType.BINARY)
    link.a.end(1)
    assert link.to_b() == [StreamData(-1, b"\x01", BodyType.BINARY), StreamData(-1, b"\x02", BodyType.BINARY),
                           StreamEnded(-1)]
    assert link.b.open_numbers == {-1}  # the sink's verdict is b's to give
    link.b.end(-1)
    assert link.to_a() == [StreamEnded(1)]
    assert closed_both_ways(link)


def test_a_sink_can_refuse_after_the_data_ended(link: Link) -> None:
    link.a.request(["store"], SINK)
    link.a.send(1, "bad item")
    link.a.end(1)
    link.to_b()
    link.b.send_error(-1, "bad item refused")
    assert link.to_a() == [ErrorReceived(1, "Error", "bad item refused")]
    assert closed_both_ways(link)


# -- duplex -----------------------------------------------------------------------------


def test_each_direction_of_a_duplex_ends_on_its_own(link: Link) -> None:
    link.a.request(["chat"], DUPLEX, ["hi"])
    link.to_b()
    link.b.send(-1, "pong", BodyType.STRING)
    link.b.end(-1)
    assert link.to_a() == [StreamData(1, "pong", BodyType.STRING), StreamEnded(1)]
    assert link.a.can_send(1)
    link.a.send(1, "still here", BodyType.STRING)
    assert link.to_b() == [StreamData(-1, "still here", BodyType.STRING)]
    link.a.end(1)
    assert link.to_b() == [StreamEnded(-1)]
    assert closed_both_ways(link)


def test_errors_close_a_duplex_in_either_direction(link: Link) -> None:
    link.a.request(["chat"], DUPLEX)
    link.to_b()
    link.a.send_error(1, "we give up")
    link.b.send_error(-1, "so do we")
    at_a, at_b = link.flush()
    assert at_b == [ErrorReceived(-1, "Error", "we give up")]
    assert at_a == [ErrorReceived(1, "Error", "so do we")]
    assert closed_both_ways(link)


def test_concurrent_streams_both_ways_are_kept_apart(link: Link) -> None:
    for _ in range(3):
        link.a.request(["feed"], DUPLEX)
        link.b.request(["feed"], DUPLEX)
    link.flush()
    for n in (1, 2, 3):
        link.a.send(n, f"a asks {n}")
        link.a.send(-n, f"a answers {n}")
        link.b.send(n, f"b asks {n}")
        link.b.send(-n, f"b answers {n}")
    for n in (3, 1, 2):
        link.a.end(n)
        link.b.end(-n)
    at_a, at_b = link.flush()
    data_at_b = {(e.number, e.value) for e in at_b if isinstance(e, StreamData)}
    assert data_at_b == {(-n, f"a asks {n}") for n in (1, 2, 3)} | {(n, f"a answers {n}") for n in (1, 2, 3)}
    data_at_a = {(e.number, e.value) for e in at_a if isinstance(e, StreamData)}
    assert data_at_a == {(-n, f"b asks {n}") for n in (1, 2, 3)} | {(n, f"b answers {n}") for n in (1, 2, 3)}
    assert [e for e in at_b if isinstance(e, StreamEnded)] == [StreamEnded(-3), StreamEnded(-1), StreamEnded(-2)]
    # each side has closed the requests it made on one side and the peer's on the other
    assert link.a.open_numbers == {-1, -2, -3}
    assert link.b.open_numbers == {1, 2, 3}
    for n in (1, 2, 3):
        link.a.end(-n)
        link.b.end(n)
    link.flush()
    assert closed_both_ways(link)


# -- goodbye and the end of the bytes -------------------------------------------------------------


def test_goodbye_closes_and_keeps_saying_so(link: Link) -> None:
    link.a.goodbye()
    assert link.to_b() == [Closed(goodbye=True)]
    assert link.b.next_event() == Closed(goodbye=True)
    link.b.goodbye()
    assert link.to_a() == [Closed(goodbye=True)]


def test_nothing_may_be_sent_after_our_goodbye(link: Link) -> None:
    link.a.request(["chat"], DUPLEX)
    link.a.goodbye()
    assert not link.a.can_send(1)
    with pytest.raises(RpcLocalProtocolError) as caught:
        link.a.send(1, "late")
    assert caught.value.code == RpcFailure.CLOSED


def test_goodbye_with_streams_open_leaves_them_for_the_application_to_drop(link: Link) -> None:
    link.a.request(["chat"], DUPLEX)
    link.to_b()
    link.a.goodbye()
    assert link.to_b() == [Closed(goodbye=True)]
    assert link.b.open_numbers == {-1}


def test_the_peer_may_still_send_after_our_goodbye(link: Link) -> None:
    link.a.request(["count"], SOURCE)
    link.to_b()
    link.a.goodbye()
    link.flush()
    link.b.send(-1, 1)
    assert link.to_a() == [StreamData(1, 1, BodyType.JSON)]


def test_bytes_that_stop_between_packets_close_without_goodbye() -> None:
    session = RpcSession()
    session.receive_data(encode_packet(Packet.of(1, {"name": ["m"], "type": "async", "args": []})))
    session.receive_data(b"")
    assert drain(session) == [Request(-1, ("m",), ASYNC, ()), Closed(goodbye=False)]


def test_bytes_that_stop_inside_a_packet_are_the_peers_error() -> None:
    session = RpcSession()
    session.receive_data(encode_packet(Packet.of(1, None))[:-1])
    assert session.next_event() is NEED_DATA
    session.receive_data(b"")
    with pytest.raises(RpcRemoteProtocolError) as caught:
        session.next_event()
    assert caught.value.code == RpcFailure.TRUNCATED


def test_a_packet_after_goodbye_is_the_peers_error() -> None:
    session = RpcSession()
    session.receive_data(GOODBYE_BYTES)
    assert session.next_event() == Closed(goodbye=True)
    with pytest.raises(RpcRemoteProtocolError) as caught:
        session.receive_data(encode_packet(Packet.of(1, None)))
    assert caught.value.code == RpcFailure.AFTER_GOODBYE


# -- numbers the session does not know ---------------------------------------------------------


def test_replies_and_ends_for_unknown_numbers_are_dropped_as_the_reference_does() -> None:
    session = RpcSession()
    session.receive_data(encode_packet(Packet.of(-7, "reply to nothing")))
    session.receive_data(encode_packet(Packet.of(-8, 1, stream=True)))
    session.receive_data(encode_packet(Packet.of(-9, True, stream=True, end_or_error=True)))
    session.receive_data(encode_packet(Packet.of(9, True, stream=True, end_or_error=True)))
    assert session.next_event() is NEED_DATA
    assert session.ignored_packets == 4


def test_a_late_packet_for_a_forgotten_request_is_dropped(link: Link) -> None:
    link.a.request(["m"], ASYNC)
    link.to_b()
    link.b.reply(-1, 1)
    link.to_a()
    # b's session would not reply twice, so the second reply is forged
    link.a.receive_data(encode_packet(Packet.of(-1, "second reply")))
    assert link.a.next_event() is NEED_DATA
    assert link.a.ignored_packets == 1


def test_a_new_positive_number_is_a_new_request() -> None:
    session = RpcSession()
    session.receive_data(encode_packet(Packet.of(5, {"name": ["m"], "type": "duplex", "args": [],
                                                     "extra": "ignored"}, stream=True)))
    assert session.next_event() == Request(-5, ("m",), DUPLEX, ())


# -- this side's mistakes ----------------------------------------------------------------------


@pytest.mark.parametrize(("setup", "call"), [
    (lambda s: s.request(["m"], ASYNC), lambda s: s.send(1, "x")),
    (lambda s: s.request(["m"], ASYNC), lambda s: s.end(1)),
    (lambda s: s.request(["m"], ASYNC), lambda s: s.reply(1, "x")),
    (lambda s: s.request(["m"], SOURCE), lambda s: s.send(1, "x")),
    (lambda s: s.request(["m"], DUPLEX), lambda s: s.reply(1, "x")),
    (lambda s: None, lambda s: s.end(3)),
    (lambda s: (s.request(["m"], DUPLEX), s.end(1)), lambda s: s.end(1)),
    (lambda s: s.request(["m"], DUPLEX), lambda s: s.send(1, b"x" * 300_000, BodyType.BINARY)),
    (lambda s: None, lambda s: s.request("m", ASYNC)),
    (lambda s: None, lambda s: s.request([], ASYNC)),
    (lambda s: None, lambda s: s.request(["m"], "async")),
    (lambda s: None, lambda s: s.request(["m"], ASYNC, [object()])),
], ids=["send_on_async", "end_on_async", "reply_to_own", "data_into_own_source", "reply_on_duplex",
        "end_unknown", "end_twice", "oversize", "name_string", "name_empty", "type_string", "args_unencodable"])
def test_this_sides_mistakes_are_local_errors_and_break_the_session(setup: object, call: object) -> None:
    session = RpcSession()
    setup(session)  # type: ignore[operator]
    session.data_to_send()
    with pytest.raises(RpcLocalProtocolError):
        call(session)  # type: ignore[operator]
    assert session.data_to_send() == b""
    with pytest.raises(RpcLocalProtocolError):
        session.next_event()
    with pytest.raises(RpcLocalProtocolError):
        session.request(["m"], ASYNC)


def test_a_responder_of_a_source_cannot_be_fooled_into_sending_data_it_may_not(link: Link) -> None:
    link.a.request(["store"], SINK)
    link.to_b()
    with pytest.raises(RpcLocalProtocolError) as caught:
        link.b.send(-1, "a sink's responder only ends")
    assert caught.value.code == RpcFailure.WRONG_ROLE


# -- the peer's mistakes -------------------------------------------------------------------


def test_data_after_the_peers_end_breaks_the_session_for_good(link: Link) -> None:
    link.a.request(["chat"], DUPLEX)
    link.to_b()
    link.b.receive_data(encode_packet(Packet.of(1, True, stream=True, end_or_error=True))
                        + encode_packet(Packet.of(1, "late", stream=True)))
    assert link.b.next_event() == StreamEnded(-1)
    for _ in range(2):
        with pytest.raises(RpcRemoteProtocolError) as caught:
            link.b.next_event()
        assert caught.value.code == RpcFailure.AFTER_END
    with pytest.raises(RpcRemoteProtocolError):
        link.b.send(-1, "anything")


def test_a_stream_packet_on_an_async_request_is_refused(link: Link) -> None:
    link.a.request(["m"], ASYNC)
    link.to_b()
    link.a.receive_data(encode_packet(Packet.of(-1, 1, stream=True)))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        link.a.next_event()
    assert caught.value.code == RpcFailure.STREAM_FLAG_MISMATCH


def test_data_from_a_sinks_responder_is_refused(link: Link) -> None:
    link.a.request(["store"], SINK)
    link.to_b()
    link.a.receive_data(encode_packet(Packet.of(-1, "not yours to send", stream=True)))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        link.a.next_event()
    assert caught.value.code == RpcFailure.UNEXPECTED_DATA


@pytest.mark.parametrize("packet", [
    Packet.of(1, b"\x00", BodyType.BINARY),
    Packet.of(1, "example", BodyType.STRING),
    Packet.of(1, ["m"]),
    Packet.of(1, {"type": "async", "args": []}),
    Packet.of(1, {"name": ["m", 1], "type": "async", "args": []}),
    Packet.of(1, {"name": ["m", ""], "type": "async", "args": []}),
    Packet.of(1, {"name": ["m"], "type": ["async"], "args": []}),
    Packet.of(1, {"name": ["m"], "type": "async"}),
    Packet.of(1, {"name": ["m"], "type": "async", "args": "x"}),
], ids=["binary", "string", "list", "no_name", "name_number", "name_empty_part", "type_list",
        "no_args", "args_string"])
def test_a_new_request_that_is_not_a_request_is_refused(packet: Packet) -> None:
    session = RpcSession()
    session.receive_data(encode_packet(packet))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        session.next_event()
    assert caught.value.code == RpcFailure.BAD_REQUEST


def test_an_error_body_of_any_shape_still_reads_as_an_error(link: Link) -> None:
    link.a.request(["m"], ASYNC)
    link.a.request(["m"], ASYNC)
    link.a.request(["m"], DUPLEX)
    link.to_b()
    link.a.receive_data(encode_packet(Packet.of(-1, [1, 2], end_or_error=True))
                        + encode_packet(Packet.of(-2, "plain", BodyType.STRING, end_or_error=True))
                        + encode_packet(Packet.of(-3, b"\x00", BodyType.BINARY, stream=True, end_or_error=True)))
    assert drain(link.a) == [ErrorReceived(1, "Error", "[1,2]"), ErrorReceived(2, "Error", "plain"),
                             ErrorReceived(3, "Error", "(a binary error body of 1 bytes)")]


# -- however the bytes are cut -----------------------------------------------------------------


def conversation(link: Link) -> list[Event]:
    link.a.request(["add"], ASYNC, [1, 2])
    link.a.request(["count"], SOURCE)
    link.a.request(["chat"], DUPLEX)
    link.b.request(["store"], SINK)
    at_a, at_b = link.flush()
    link.b.reply(-1, 3)
    for n in range(5):
        link.b.send(-2, {"n": n})
        link.b.send(-3, b"\x00" * n, BodyType.BINARY)
        link.a.send(3, "é" * n, BodyType.STRING)
        link.b.send(1, n)
    link.a.end(-1)
    link.b.end(-2)
    link.b.end(-3)
    link.a.end(3)
    link.b.end(1)
    more_a, more_b = link.flush()
    link.a.goodbye()
    last_a, last_b = link.flush()
    return at_a + at_b + more_a + more_b + last_a + last_b


def chunker(points: list[int]) -> Callable[[bytes], Iterator[bytes]]:
    def cut(data: bytes) -> Iterator[bytes]:
        edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
        for start, end in itertools.pairwise(edges):
            yield data[start:end]
    return cut


REFERENCE = conversation(Link())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 4000), max_size=40))
def test_where_the_bytes_are_cut_never_changes_the_events(points: list[int]) -> None:
    assert conversation(Link(chunker=chunker(points))) == REFERENCE


def test_the_reference_conversation_ends_with_every_request_closed() -> None:
    link = Link()
    conversation(link)
    assert link.a.open_numbers == set() and link.b.open_numbers == set()
    assert REFERENCE[-1] == Closed(goodbye=True)


# -- a carrier -----------------------------------------------------------------------------------


async def carry(session: RpcSession, reader: asyncio.Queue[bytes], writer: asyncio.Queue[bytes],
                handle: object) -> list[Event]:
    """The whole job of a carrier: bytes in, events out, queued bytes written."""
    seen: list[Event] = []
    while True:
        session.receive_data(await reader.get())
        while (event := session.next_event()) is not NEED_DATA:
            seen.append(event)
            if isinstance(event, Closed):
                return seen
            handle(session, event)  # type: ignore[operator]
            if data := session.data_to_send():  # b"" would tell the peer our bytes ended
                writer.put_nowait(data)


async def test_two_sessions_over_an_asyncio_pipe() -> None:
    to_server: asyncio.Queue[bytes] = asyncio.Queue()
    to_client: asyncio.Queue[bytes] = asyncio.Queue()

    def serve(session: RpcSession, event: Event) -> None:
        if isinstance(event, Request):
            for n in range(event.args[0]):
                session.send(event.number, n)
            session.end(event.number)
        elif isinstance(event, StreamEnded):
            session.goodbye()

    def consume(session: RpcSession, event: Event) -> None:
        if isinstance(event, StreamEnded):
            session.goodbye()

    client = RpcSession()
    client.request(["count"], SOURCE, [3])
    to_server.put_nowait(client.data_to_send())
    server_seen, client_seen = await asyncio.wait_for(asyncio.gather(
        carry(RpcSession(), to_server, to_client, serve),
        carry(client, to_client, to_server, consume)), timeout=5)
    assert client_seen == [StreamData(1, 0, BodyType.JSON), StreamData(1, 1, BodyType.JSON),
                           StreamData(1, 2, BodyType.JSON), StreamEnded(1), Closed(goodbye=True)]
    assert server_seen == [Request(-1, ("count",), SOURCE, (3,)), StreamEnded(-1), Closed(goodbye=True)]
