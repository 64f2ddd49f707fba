"""Canonical JSON has exactly one encoding per value; base64url and base32 have one text per bytes."""

from __future__ import annotations

import json
import string
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.encoding import (
    MAX_DEPTH,
    MAX_SAFE_INT,
    _check_value,  # the quick check must agree with the walk it stands in for
    _is_plainly_valid,
    b32,
    b64url,
    canonical,
    check_values,
    decode_canonical,
    from_b32,
    from_b64url,
)
from weft.errors import EncodingError

nfc_text = st.text(max_size=12).map(lambda text: unicodedata.normalize("NFC", text))
safe_ints = st.integers(-MAX_SAFE_INT, MAX_SAFE_INT)
scalars = st.none() | st.booleans() | safe_ints | nfc_text
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nfc_text, children, max_size=4),
    max_leaves=16,
)
objects = st.dictionaries(nfc_text, json_values, max_size=6)


def oracle(value: dict[str, Any]) -> bytes:
    """The canonical bytes by Python's own json module, written from the rules, not from orjson."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@settings(max_examples=200)
@given(objects)
def test_canonical_round_trip(value: dict[str, Any]) -> None:
    data = canonical(value)
    assert decode_canonical(data) == value
    assert canonical(decode_canonical(data)) == data


@settings(max_examples=200)
@given(objects)
def test_canonical_bytes_follow_the_written_rules(value: dict[str, Any]) -> None:
    assert canonical(value) == oracle(value)


@settings(max_examples=200)
@given(objects.filter(bool), st.sampled_from([b" ", b"\n", b"\t", b"\r"]))
def test_whitespace_anywhere_structural_is_rejected(value: dict[str, Any], space: bytes) -> None:
    data = canonical(value)
    with pytest.raises(EncodingError):
        decode_canonical(data[:1] + space + data[1:])
    with pytest.raises(EncodingError):
        decode_canonical(data + space)


@settings(max_examples=200)
@given(st.dictionaries(nfc_text, safe_ints, min_size=2, max_size=6))
def test_keys_out_of_order_are_rejected(value: dict[str, int]) -> None:
    reordered = dict(reversed(sorted(value.items())))
    data = b"{" + b",".join(json.dumps(k, ensure_ascii=False).encode() + b":" + str(v).encode()
                            for k, v in reordered.items()) + b"}"
    with pytest.raises(EncodingError, match="not canonical"):
        decode_canonical(data)


@settings(max_examples=200)
@given(nfc_text, st.sampled_from(["e\u0301", "A\u030a", "\u1e0b\u0323", "\u212b"]))
def test_strings_not_in_nfc_are_rejected(prefix: str, decomposed: str) -> None:
    text = prefix + decomposed
    assert not unicodedata.is_normalized("NFC", text)
    with pytest.raises(EncodingError, match="NFC"):
        canonical({"s": text})
    with pytest.raises(EncodingError, match="NFC"):
        canonical({text: 1})
    with pytest.raises(EncodingError, match="NFC"):
        decode_canonical(json.dumps({"s": text}, ensure_ascii=False, separators=(",", ":")).encode())


@settings(max_examples=100)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_rejected(number: float) -> None:
    with pytest.raises(EncodingError, match="float"):
        canonical({"x": number})
    with pytest.raises(EncodingError):
        decode_canonical(b'{"x":' + repr(number).encode() + b"}")


@settings(max_examples=100)
@given(st.integers(MAX_SAFE_INT + 1, 2**63 - 1) | st.integers(-(2**63), -MAX_SAFE_INT - 1))
def test_integers_outside_the_safe_range_are_rejected(number: int) -> None:
    with pytest.raises(EncodingError, match="outside"):
        canonical({"n": number})
    with pytest.raises(EncodingError, match="outside"):
        decode_canonical(b'{"n":' + str(number).encode() + b"}")


def test_integers_at_the_edge_of_the_safe_range_are_kept() -> None:
    for number in (MAX_SAFE_INT, -MAX_SAFE_INT):
        assert decode_canonical(canonical({"n": number})) == {"n": number}


@pytest.mark.parametrize("data", [
    b'{"a":1,"a":1}', b'{"a":"\\u0041"}', b'{"a":"\\/"}', b'{"a":"\\u000a"}', b'{"a":"\\u001F"}',
    b'{"a":-0}', b'{"a":1E2}', b'[]', b'"a"', b"", b'\xef\xbb\xbf{}', b'{"a":"\xc3"}', b'{"a":"\\ud800"}',
])
def test_other_non_canonical_forms_are_rejected(data: bytes) -> None:
    with pytest.raises(EncodingError):
        decode_canonical(data)


def nested(depth: int) -> dict[str, Any]:
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"a": value}


def test_nesting_is_limited_to_the_documented_depth() -> None:
    assert decode_canonical(canonical(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    with pytest.raises(EncodingError, match="deep"):
        canonical(nested(MAX_DEPTH + 1))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 1000, 2000])
def test_deeply_nested_bytes_raise_encoding_error_not_a_crash(depth: int) -> None:
    with pytest.raises(EncodingError):
        decode_canonical(b'{"a":' + b"[" * depth + b"]" * depth + b"}")


class Number(int):
    """An int subclass: valid, but not a type the quick check vouches for."""


# Values of every kind the walk meets, valid or not: odd strings, floats, big integers,
# subclasses, non-string keys, and nesting around the depth limit.
any_scalars = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats()
               | st.text(max_size=6) | st.sampled_from(["e\u0301", "\u212b", "é", Number(3), b"x", 1.0]))
any_values = st.recursive(
    any_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4) | st.integers(0, 2),
                                                                      children, max_size=3),
    max_leaves=12,
)


def walk_result(value: Any) -> str | None:
    try:
        _check_value(value, "$")
    except EncodingError as exc:
        return str(exc)
    return None


@settings(max_examples=500)
@given(st.dictionaries(st.text(max_size=4), any_values, max_size=4))
def test_the_quick_check_vouches_only_for_what_the_walk_accepts(value: dict[str, Any]) -> None:
    # canonical() asks the quick check first and walks (naming the path) only when it says no.
    if _is_plainly_valid(value):
        assert walk_result(value) is None
    try:
        check_values(value)
        outcome = None
    except EncodingError as exc:
        outcome = str(exc)
    assert outcome == walk_result(value)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_quick_check_keeps_the_depth_limit(depth: int) -> None:
    empty: tuple[Any, ...] = ([], {})
    for inner in empty:
        value: Any = inner
        for level in range(depth - 1):
            value = [value] if level % 2 else {"k": value}
        assert _is_plainly_valid({"a": value}) == (walk_result({"a": value}) is None)


def test_lone_surrogates_cannot_be_encoded() -> None:
    with pytest.raises(EncodingError):
        canonical({"s": "\ud800"})
    with pytest.raises(EncodingError):
        canonical({"\udfff": 1})


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(EncodingError):
        canonical([1])  # type: ignore[arg-type]


# -- base64url and base32 ---------------------------------------------------

B64_CHARS = string.ascii_letters + string.digits + "-_+/="
B32_CHARS = "abcdefghijklmnopqrstuvwxyz234567ABZ018="


@settings(max_examples=200)
@given(st.binary(max_size=80))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert from_b64url(text) == data
    assert from_b64url(text, len(data)) == data


@settings(max_examples=300)
@given(st.text(alphabet=B64_CHARS, max_size=12))
def test_b64url_accepts_only_the_one_text_of_each_value(text: str) -> None:
    try:
        data = from_b64url(text)
    except EncodingError:
        return
    assert b64url(data) == text


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=40).filter(lambda d: len(d) % 3 != 0))
def test_b64url_spare_bits_must_be_zero(data: bytes) -> None:
    text = b64url(data)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    bumped = text[:-1] + alphabet[alphabet.index(text[-1]) ^ 1]
    with pytest.raises(EncodingError):
        from_b64url(bumped)


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=40))
def test_b32_round_trip(data: bytes) -> None:
    text = b32(data)
    assert text == text.lower() and "=" not in text
    assert from_b32(text, len(data)) == data


@settings(max_examples=300)
@given(st.text(alphabet=B32_CHARS, min_size=1, max_size=10), st.integers(1, 6))
def test_b32_accepts_only_the_one_text_of_each_value(text: str, length: int) -> None:
    try:
        data = from_b32(text, length)
    except EncodingError:
        return
    assert b32(data) == text and len(data) == length


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=40).filter(lambda d: len(d) % 5 != 0))
def test_b32_spare_bits_must_be_zero(data: bytes) -> None:
    text = b32(data)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    bumped = text[:-1] + alphabet[alphabet.index(text[-1]) ^ 1]
    with pytest.raises(EncodingError, match="non-canonical"):
        from_b32(bumped, len(data))
