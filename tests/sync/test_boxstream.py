"""Box-stream: what goes in comes out whatever the chunking, and no change to the wire goes unnoticed."""

from __future__ import annotations

import itertools

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.errors import BoxStreamError, KeyFormatError, TransportClosed
from weft.sync.boxstream import (
    HEADER_BYTES,
    MAX_BODY_BYTES,
    BoxStreamDecoder,
    BoxStreamEncoder,
)

KEY = bytes(range(32))
NONCE = bytes(range(100, 124))

writes = st.lists(st.binary(max_size=3 * MAX_BODY_BYTES), max_size=6)


def pair(nonce: bytes = NONCE) -> tuple[BoxStreamEncoder, BoxStreamDecoder]:
    return BoxStreamEncoder(KEY, nonce), BoxStreamDecoder(KEY, nonce)


def stream_of(data: list[bytes], nonce: bytes = NONCE) -> bytes:
    encoder = BoxStreamEncoder(KEY, nonce)
    return b"".join(encoder.encode(d) for d in data) + encoder.goodbye()


def decode(decoder: BoxStreamDecoder, chunks: list[bytes], bodies: list[bytes] | None = None
           ) -> list[bytes]:
    """Feed ``chunks`` one by one, draining bodies after each, as an adapter would."""
    bodies = [] if bodies is None else bodies
    for chunk in chunks:
        decoder.receive_data(chunk)
        while (body := decoder.next_body()) is not None:
            bodies.append(body)
    return bodies


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[start:end] for start, end in itertools.pairwise(edges)]


@settings(max_examples=60)
@given(writes, st.lists(st.integers(min_value=0), max_size=40))
def test_any_chunking_gives_back_the_plaintext_then_goodbye(data: list[bytes], points: list[int]) -> None:
    decoder = BoxStreamDecoder(KEY, NONCE)
    bodies = decode(decoder, cut(stream_of(data), points))
    assert b"".join(bodies) == b"".join(data)
    assert all(0 < len(body) <= MAX_BODY_BYTES for body in bodies)
    assert decoder.ended
    decoder.receive_eof()  # a clean end


def test_byte_by_byte() -> None:
    data = [b"hello", bytes(MAX_BODY_BYTES + 1), b"!"]
    wire = stream_of(data)
    decoder = BoxStreamDecoder(KEY, NONCE)
    assert decode(decoder, [wire[i:i + 1] for i in range(len(wire))]) == [
        b"hello", bytes(MAX_BODY_BYTES), b"\x00", b"!"]
    assert decoder.ended


@settings(max_examples=60)
@given(writes.filter(lambda d: any(d)), st.data())
def test_any_flipped_bit_is_detected(data: list[bytes], draw: st.DataObject) -> None:
    wire = bytearray(stream_of(data))
    position = draw.draw(st.integers(min_value=0, max_value=len(wire) - 1))
    wire[position] ^= 1 << draw.draw(st.integers(min_value=0, max_value=7))
    decoder = BoxStreamDecoder(KEY, NONCE)
    bodies: list[bytes] = []
    with pytest.raises(BoxStreamError) as caught:
        decode(decoder, [bytes(wire)], bodies)
    assert caught.value.code in {"tampered_header", "tampered_body"}
    assert b"".join(data).startswith(b"".join(bodies))  # only what came before the damage


@settings(max_examples=40)
@given(writes.filter(lambda d: any(d)), st.data())
def test_a_stream_cut_short_anywhere_is_reported_as_truncated(data: list[bytes],
                                                              draw: st.DataObject) -> None:
    wire = stream_of(data)
    end = draw.draw(st.integers(min_value=0, max_value=len(wire) - 1))
    decoder = BoxStreamDecoder(KEY, NONCE)
    decode(decoder, [wire[:end]])
    with pytest.raises(BoxStreamError, match=r"^truncated: the stream ended without goodbye"):
        decoder.receive_eof()


def test_frames_are_at_most_4096_bytes_of_body() -> None:
    encoder = BoxStreamEncoder(KEY, NONCE)
    assert encoder.encode(b"") == b""
    assert len(encoder.encode(bytes(MAX_BODY_BYTES))) == HEADER_BYTES + MAX_BODY_BYTES
    assert len(encoder.encode(bytes(MAX_BODY_BYTES + 1))) == 2 * HEADER_BYTES + MAX_BODY_BYTES + 1
    assert len(encoder.goodbye()) == HEADER_BYTES


def test_the_same_bytes_never_encrypt_the_same_way_twice() -> None:
    encoder = BoxStreamEncoder(KEY, NONCE)
    assert encoder.encode(b"again") != encoder.encode(b"again")


def test_nonces_wrap_around_like_a_192_bit_counter() -> None:
    last = b"\xff" * 24
    encoder, decoder = pair(last)
    assert decode(decoder, [encoder.encode(b"one") + encoder.encode(b"two")]) == [b"one", b"two"]
    # The header nonce of the first frame is all ones; its body nonce wrapped to zero.
    body_mac = nacl.bindings.crypto_secretbox(b"one", bytes(24), KEY)[:16]
    first = BoxStreamEncoder(KEY, last).encode(b"one")
    assert nacl.bindings.crypto_secretbox_open(first[:HEADER_BYTES], last, KEY) == b"\x00\x03" + body_mac


def test_frames_replayed_or_reordered_are_refused() -> None:
    encoder = BoxStreamEncoder(KEY, NONCE)
    one, two = encoder.encode(b"one"), encoder.encode(b"two")
    with pytest.raises(BoxStreamError, match=r"^tampered_header"):
        decode(BoxStreamDecoder(KEY, NONCE), [two + one])
    with pytest.raises(BoxStreamError, match=r"^tampered_header"):
        decode(BoxStreamDecoder(KEY, NONCE), [one + one])


def test_another_key_cannot_read_the_stream() -> None:
    with pytest.raises(BoxStreamError, match=r"^tampered_header"):
        decode(BoxStreamDecoder(bytes(32), NONCE), [stream_of([b"secret"])])


def test_data_after_goodbye_is_refused_in_the_same_chunk_or_later() -> None:
    wire = stream_of([b"bye"])
    with pytest.raises(BoxStreamError, match=r"^after_goodbye: 1 bytes followed"):
        decode(BoxStreamDecoder(KEY, NONCE), [wire + b"\x00"])
    decoder = BoxStreamDecoder(KEY, NONCE)
    assert decode(decoder, [wire]) == [b"bye"]
    with pytest.raises(BoxStreamError, match=r"^after_goodbye: 3 bytes arrived"):
        decoder.receive_data(b"abc")


def test_a_header_announcing_more_than_4096_bytes_is_refused() -> None:
    header = nacl.bindings.crypto_secretbox((MAX_BODY_BYTES + 1).to_bytes(2, "big") + bytes(16),
                                            NONCE, KEY)
    with pytest.raises(BoxStreamError, match=r"^oversize_body: a header announces 4097 bytes"):
        decode(BoxStreamDecoder(KEY, NONCE), [header])


def test_an_empty_frame_is_an_empty_body() -> None:
    body_nonce = NONCE[:-1] + bytes([NONCE[-1] + 1])
    boxed = nacl.bindings.crypto_secretbox(b"", body_nonce, KEY)
    header = nacl.bindings.crypto_secretbox(b"\x00\x00" + boxed, NONCE, KEY)
    assert decode(BoxStreamDecoder(KEY, NONCE), [header]) == [b""]


def test_a_failed_decoder_stays_failed() -> None:
    decoder = BoxStreamDecoder(KEY, NONCE)
    with pytest.raises(BoxStreamError):
        decode(decoder, [b"\x00" * HEADER_BYTES])
    with pytest.raises(TransportClosed, match="already failed"):
        decoder.receive_data(stream_of([b"fine"]))
    with pytest.raises(TransportClosed):
        decoder.next_body()
    with pytest.raises(TransportClosed):
        decoder.receive_eof()


def test_nothing_can_be_sent_after_goodbye() -> None:
    encoder = BoxStreamEncoder(KEY, NONCE)
    encoder.goodbye()
    with pytest.raises(TransportClosed):
        encoder.encode(b"late")
    with pytest.raises(TransportClosed):
        encoder.goodbye()


def test_a_partial_frame_waits_for_the_rest() -> None:
    wire = BoxStreamEncoder(KEY, NONCE).encode(b"patience")
    decoder = BoxStreamDecoder(KEY, NONCE)
    assert decode(decoder, [wire[:HEADER_BYTES - 1], wire[HEADER_BYTES - 1:-1]]) == []
    assert decode(decoder, [wire[-1:]]) == [b"patience"]
    assert not decoder.ended


@pytest.mark.parametrize(("key", "nonce"), [(bytes(31), NONCE), (KEY, bytes(25))])
def test_keys_and_nonces_have_fixed_sizes(key: bytes, nonce: bytes) -> None:
    with pytest.raises(KeyFormatError):
        BoxStreamEncoder(key, nonce)
    with pytest.raises(KeyFormatError):
        BoxStreamDecoder(key, nonce)
