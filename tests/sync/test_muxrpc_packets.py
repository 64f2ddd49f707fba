"""Muxrpc packets: exact bytes, round trips however the bytes are cut, and every malformed input."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.errors import RpcLocalProtocolError, RpcRemoteProtocolError
from weft.sync.muxrpc_packets import (
    GOODBYE_BYTES,
    MAX_REQUEST_NUMBER,
    BodyType,
    Goodbye,
    Packet,
    PacketDecoder,
    RpcFailure,
    encode_packet,
)


def header(flags: int, length: int, number: int) -> bytes:
    return bytes([flags]) + length.to_bytes(4, "big") + number.to_bytes(4, "big", signed=True)


def decode_all(data: bytes, max_body_bytes: int = 1 << 20) -> list[Packet | Goodbye]:
    decoder = PacketDecoder(max_body_bytes)
    decoder.receive_data(data)
    out: list[Packet | Goodbye] = []
    while (item := decoder.next_packet()) is not None:
        out.append(item)
    assert decoder.buffered == 0
    return out


def refused(data: bytes, max_body_bytes: int = 1 << 20) -> RpcFailure:
    with pytest.raises(RpcRemoteProtocolError) as caught:
        decode_all(data, max_body_bytes)
    return RpcFailure(caught.value.code)


# -- exact bytes ---------------------------------------------------------------------------


def test_the_guides_async_request_header() -> None:
    body = b'{"name":["blobs","has"],"type":"async","args":["&x"]}'
    packet = Packet(2, BodyType.JSON, body)
    assert encode_packet(packet) == header(0b0010, len(body), 2) + body


def test_flags_of_a_stream_end_and_of_an_error_reply() -> None:
    assert encode_packet(Packet.of(-1, True, stream=True, end_or_error=True)) == header(0b1110, 4, -1) + b"true"
    error = Packet.of(-3, {"name": "Error", "message": "no"}, end_or_error=True)
    assert encode_packet(error)[0] == 0b0110


def test_negative_numbers_are_twos_complement_big_endian() -> None:
    assert encode_packet(Packet.of(-1, None))[5:9] == b"\xff\xff\xff\xff"
    assert encode_packet(Packet.of(MAX_REQUEST_NUMBER, None))[5:9] == b"\x7f\xff\xff\xff"


def test_goodbye_is_nine_zero_bytes() -> None:
    assert bytes(9) == GOODBYE_BYTES
    assert decode_all(GOODBYE_BYTES) == [Goodbye()]


def test_values_are_read_by_body_type() -> None:
    assert Packet.of(1, b"\x00\xff", BodyType.BINARY).value == b"\x00\xff"
    assert Packet.of(1, "é", BodyType.STRING).body == "é".encode()
    assert Packet.of(1, {"a": [1, None]}).value == {"a": [1, None]}


# -- round trips -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
numbers = st.integers(-(2**31), MAX_REQUEST_NUMBER).filter(bool)
packets = st.one_of(
    st.builds(Packet.of, numbers, st.binary(max_size=300), st.just(BodyType.BINARY),
              stream=st.booleans(), end_or_error=st.booleans()),
    st.builds(Packet.of, numbers, st.text(max_size=100).filter(lambda s: not any(
        0xD800 <= ord(c) <= 0xDFFF for c in s)), st.just(BodyType.STRING),
              stream=st.booleans(), end_or_error=st.booleans()),
    st.builds(Packet.of, numbers, json_values, st.just(BodyType.JSON),
              stream=st.booleans(), end_or_error=st.booleans()),
)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[start:end] for start, end in itertools.pairwise(edges)]


@settings(max_examples=300)
@given(st.lists(packets, max_size=12), st.lists(st.integers(0, 10_000), max_size=30), st.booleans())
def test_packets_round_trip_however_the_bytes_are_cut(sent: list[Packet], points: list[int],
                                                      goodbye: bool) -> None:
    data = b"".join(encode_packet(p) for p in sent) + (GOODBYE_BYTES if goodbye else b"")
    decoder = PacketDecoder(1 << 20)
    received: list[Any] = []
    for chunk in cut(data, points):
        decoder.receive_data(chunk)
        while (item := decoder.next_packet()) is not None:
            received.append(item)
    assert received == [*sent, *([Goodbye()] if goodbye else [])]
    assert decoder.buffered == 0


@given(packets)
def test_a_decoded_packet_reads_back_the_value_it_was_made_from(packet: Packet) -> None:
    [decoded] = decode_all(encode_packet(packet))
    assert isinstance(decoded, Packet)
    assert decoded.value == packet.value


def test_one_byte_at_a_time() -> None:
    sent = [Packet.of(1, {"a": 1}), Packet.of(-1, b"xy", BodyType.BINARY, stream=True)]
    decoder = PacketDecoder()
    received = []
    for byte in b"".join(map(encode_packet, sent)):
        decoder.receive_data(bytes([byte]))
        if (item := decoder.next_packet()) is not None:
            received.append(item)
    assert received == sent


def test_a_chunk_of_many_small_packets_decodes_in_linear_time() -> None:
    data = encode_packet(Packet.of(1, b"", BodyType.BINARY, stream=True)) * 200_000
    assert len(decode_all(data)) == 200_000


# -- malformed input, on purpose ------------------------------------------------------------


@pytest.mark.parametrize("flags", [0x10, 0x20, 0x40, 0x80, 0xF2])
def test_unused_flag_bits_are_refused(flags: int) -> None:
    assert refused(header(flags, 2, 1) + b"{}") is RpcFailure.UNKNOWN_FLAGS


@pytest.mark.parametrize("flags", [0x03, 0x0B, 0x0F])
def test_body_type_3_is_refused(flags: int) -> None:
    assert refused(header(flags, 1, 1) + b"x") is RpcFailure.UNKNOWN_BODY_TYPE


@pytest.mark.parametrize(("flags", "length"), [(0x02, 2), (0x08, 0), (0x04, 0), (0x00, 1)])
def test_request_number_zero_outside_goodbye_is_refused(flags: int, length: int) -> None:
    assert refused(header(flags, length, 0) + b"{}x"[:length]) is RpcFailure.ZERO_REQUEST_NUMBER


def test_an_oversize_body_is_refused_at_its_header_before_any_body_byte() -> None:
    decoder = PacketDecoder(max_body_bytes=100)
    decoder.receive_data(header(0x00, 101, 1))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        decoder.next_packet()
    assert caught.value.code == RpcFailure.OVERSIZE
    assert "101" in str(caught.value) and "100" in str(caught.value)


def test_a_body_of_exactly_the_limit_is_accepted() -> None:
    [packet] = decode_all(header(0x00, 100, 1) + bytes(100), max_body_bytes=100)
    assert isinstance(packet, Packet) and len(packet.body) == 100


def test_a_peer_announcing_four_gigabytes_is_refused_without_buffering() -> None:
    assert refused(header(0x00, 0xFFFF_FFFF, 1) + b"x" * 1000) is RpcFailure.OVERSIZE


@pytest.mark.parametrize("body", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\x80"])
def test_a_string_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    assert refused(header(0x01, len(body), 1) + body) is RpcFailure.INVALID_UTF8


@pytest.mark.parametrize("body", [
    b"", b"{", b"{}x", b"NaN", b"[1,]", b"{'a':1}", b'"\xff"', b"1e400", b"[" * 2000 + b"]" * 2000,
], ids=["empty", "open", "trailing", "nan", "trailing_comma", "quotes", "not_utf8", "infinite", "too_deep"])
def test_a_json_body_that_does_not_parse_is_refused(body: bytes) -> None:
    assert refused(header(0x02, len(body), 1) + body) is RpcFailure.INVALID_JSON


def test_a_binary_body_may_be_anything() -> None:
    [packet] = decode_all(header(0x00, 3, 1) + b"\xff\x00\xfe")
    assert isinstance(packet, Packet) and packet.value == b"\xff\x00\xfe"


def test_bytes_after_goodbye_in_the_same_chunk_are_refused() -> None:
    assert refused(GOODBYE_BYTES + b"\x00") is RpcFailure.AFTER_GOODBYE


def test_bytes_after_goodbye_in_a_later_chunk_are_refused() -> None:
    decoder = PacketDecoder()
    decoder.receive_data(GOODBYE_BYTES)
    assert decoder.next_packet() == Goodbye()
    assert decoder.next_packet() is None
    with pytest.raises(RpcRemoteProtocolError) as caught:
        decoder.receive_data(b"x")
    assert caught.value.code == RpcFailure.AFTER_GOODBYE


def test_the_decoder_stays_broken_after_an_error() -> None:
    decoder = PacketDecoder()
    decoder.receive_data(header(0x80, 0, 1) + encode_packet(Packet.of(1, None)))
    for _ in range(2):
        with pytest.raises(RpcRemoteProtocolError):
            decoder.next_packet()
    with pytest.raises(RpcRemoteProtocolError):
        decoder.receive_data(encode_packet(Packet.of(2, None)))


def test_packets_before_a_bad_one_are_handed_out_first() -> None:
    decoder = PacketDecoder()
    decoder.receive_data(encode_packet(Packet.of(1, 1)) + header(0x03, 0, 2))
    assert decoder.next_packet() == Packet.of(1, 1)
    with pytest.raises(RpcRemoteProtocolError):
        decoder.next_packet()


# -- packets this side makes -----------------------------------------------------------------


@pytest.mark.parametrize(("make", "code"), [
    (lambda: Packet.of(0, None), RpcFailure.ZERO_REQUEST_NUMBER),
    (lambda: Packet.of(2**31, None), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(-(2**31) - 1, None), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(True, None), RpcFailure.UNENCODABLE),
    (lambda: Packet(1, 2, b"1"), RpcFailure.UNKNOWN_BODY_TYPE),  # type: ignore[arg-type]
    (lambda: Packet(1, BodyType.BINARY, bytearray(b"x")), RpcFailure.UNENCODABLE),  # type: ignore[arg-type]
    (lambda: Packet(1, BodyType.JSON, b"{"), RpcFailure.INVALID_JSON),
    (lambda: Packet(1, BodyType.STRING, b"\xff"), RpcFailure.INVALID_UTF8),
    (lambda: Packet.of(1, "text", BodyType.BINARY), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(1, b"bytes", BodyType.STRING), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(1, "\ud800", BodyType.STRING), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(1, {1, 2}), RpcFailure.UNENCODABLE),
    (lambda: Packet.of(1, 2**64), RpcFailure.UNENCODABLE),
], ids=["zero", "too_big", "too_small", "bool_number", "int_body_type", "bytearray", "bad_json",
        "bad_utf8", "str_as_binary", "bytes_as_string", "lone_surrogate", "set", "huge_int"])
def test_this_side_cannot_make_a_malformed_packet(make: Any, code: RpcFailure) -> None:
    with pytest.raises(RpcLocalProtocolError) as caught:
        make()
    assert caught.value.code == code
