"""Entry batches on the wire: what goes in comes out, and a bad batch is refused, never guessed at."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.core.content import MAX_CONTENT_BYTES
from weft.core.entry import MAX_HEADER_BYTES
from weft.sync.batches import (
    MAX_BATCH_BYTES,
    Batcher,
    BatchError,
    WireEntry,
    decode_batch,
    encode_batch,
)

headers = st.binary(min_size=1, max_size=MAX_HEADER_BYTES)
contents = st.none() | st.binary(max_size=3000)
entry_lists = st.lists(st.tuples(headers, contents), max_size=20)


@given(entry_lists)
def test_a_batch_decodes_to_the_entries_it_was_made_of(entries) -> None:
    assert decode_batch(encode_batch(entries)) == [WireEntry(h, c) for h, c in entries]


@given(entry_lists, st.integers(min_value=200, max_value=20_000))
def test_batches_are_cut_below_the_limit_and_lose_nothing(entries, limit) -> None:
    batches = list(Batcher(limit).batches(entries))
    assert [WireEntry(h, c) for h, c in entries] == [e for b in batches for e in decode_batch(b)]
    assert all(len(b) <= limit or len(decode_batch(b)) == 1 for b in batches)


def test_empty_content_and_no_content_differ() -> None:
    assert decode_batch(encode_batch([(b"h", b""), (b"h", None)])) == [WireEntry(b"h", b""), WireEntry(b"h", None)]
    assert encode_batch([(b"h", b"")]) == b"\x01h\x01" and encode_batch([(b"h", None)]) == b"\x01h\x00"


@given(st.lists(st.tuples(headers, contents), min_size=1, max_size=5), st.data())
def test_a_truncated_batch_is_refused(entries, data) -> None:
    encoded = encode_batch(entries)
    cut = data.draw(st.integers(min_value=1, max_value=len(encoded) - 1))
    try:
        decoded = decode_batch(encoded[:cut])
    except BatchError:
        return
    # A cut can fall exactly between two entries: then it is a shorter, valid batch.
    assert decoded == [WireEntry(h, c) for h, c in entries][:len(decoded)]


@pytest.mark.parametrize(("data", "problem"), [
    (b"\x00", "header length 0"),
    (b"\x81\x08" + b"x" * 1025, "header length 1025"),
    (b"\x05ab", "header is truncated"),
    (b"\x01h", "truncated or too long"),
    (b"\x01h\x05ab", "content is truncated"),
    (b"\x01h" + bytes([0x82, 0x80, 0x04]), f"content length {0x10002 - 1} is out of bounds"),
    (b"\x81\x00h", "not minimally encoded"),
    (b"\xff\xff\xff\xff\x0f", "truncated or too long"),
])
def test_malformed_batches_are_refused_with_the_reason(data: bytes, problem: str) -> None:
    with pytest.raises(BatchError, match=problem):
        decode_batch(data)


def test_an_oversize_batch_is_refused_before_it_is_read() -> None:
    with pytest.raises(BatchError, match="limit"):
        decode_batch(b"\x00" * (MAX_BATCH_BYTES + 1))


def test_limits_are_the_entry_limits() -> None:
    biggest = (b"h" * MAX_HEADER_BYTES, b"c" * MAX_CONTENT_BYTES)
    assert decode_batch(encode_batch([biggest])) == [WireEntry(*biggest)]
