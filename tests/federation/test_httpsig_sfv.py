"""Structured fields (RFC 8941) as RFC 9421 uses them: parsed strictly, serialized canonically."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.federation.httpsig_sfv import (
    BareItem,
    InnerList,
    Item,
    Member,
    StructuredFieldError,
    Token,
    parse_dictionary,
    parse_item,
    parse_list,
    serialize_dictionary,
    serialize_member,
)


def test_a_signature_input_member() -> None:
    members = parse_dictionary('sig1=("@method" "@query-param";name="Pet" "content-digest");created=1618884473;'
                               'keyid="test-key-rsa-pss";alg="rsa-pss-sha512"')
    assert members == {"sig1": InnerList(
        (Item("@method"), Item("@query-param", {"name": "Pet"}), Item("content-digest")),
        {"created": 1618884473, "keyid": "test-key-rsa-pss", "alg": "rsa-pss-sha512"})}


def test_byte_sequences_booleans_tokens_and_decimals() -> None:
    members = parse_dictionary("sha-256=:AAEC:, flag, off=?0, kind=foo/bar, q=0.5;x")
    assert members == {"sha-256": Item(b"\x00\x01\x02"), "flag": Item(True), "off": Item(False),
                       "kind": Item(Token("foo/bar")), "q": Item(Decimal("0.5"), {"x": True})}
    assert isinstance(members["kind"].value, Token)   # type: ignore[union-attr]
    assert serialize_dictionary(members) == "sha-256=:AAEC:, flag, off=?0, kind=foo/bar, q=0.5;x"


def test_whitespace_around_members_is_allowed_and_dropped() -> None:
    assert serialize_dictionary(parse_dictionary("  a=1 ,\tb=2  ")) == "a=1, b=2"
    assert parse_list(' (1 2)  , "x" ') == [InnerList((Item(1), Item(2))), Item("x")]


def test_a_repeated_key_keeps_its_last_value() -> None:
    assert parse_dictionary("a=1, b=2, a=3") == {"a": Item(3), "b": Item(2)}


@pytest.mark.parametrize("text", [
    "a=", "a=1,", "a=1,,b=2", "A=1", "a=(1", 'a="unterminated', 'a="bad\\escape"', "a=:not base64!:",
    "a=?2", "a=1234567890123456", "a=1.2345", "a=1.", "a=-", "a=é", "a=1 b=2", "a=(1)x", 'a="tab\there"',
])
def test_malformed_fields_are_refused(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


def test_an_item_field_takes_one_item() -> None:
    assert parse_item('"x";a=1') == Item("x", {"a": 1})
    with pytest.raises(StructuredFieldError, match="more after its item"):
        parse_item('"x" "y"')


_keys = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,6}", fullmatch=True)
_bare: st.SearchStrategy[BareItem] = st.one_of(
    st.integers(-999_999_999_999_999, 999_999_999_999_999),
    st.decimals(min_value=Decimal("-999999999999.999"), max_value=Decimal("999999999999.999"), places=3),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    st.from_regex(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]{0,8}", fullmatch=True).map(Token),
    st.binary(max_size=16),
    st.booleans(),
)
_params = st.dictionaries(_keys, _bare, max_size=3)
_items = st.builds(Item, _bare, _params)
_members: st.SearchStrategy[Member] = st.one_of(_items, st.builds(InnerList, st.lists(_items, max_size=3).map(tuple), _params))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _members, max_size=4))
def test_serializing_then_parsing_gives_the_same_dictionary(members: dict[str, Member]) -> None:
    # Decimals are serialized with at most three places and no trailing zeros: compare by value.
    text = serialize_dictionary(members)
    assert parse_dictionary(text) == members
    assert serialize_dictionary(parse_dictionary(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="ascii"), max_size=60))
def test_any_text_either_parses_and_round_trips_or_is_refused(text: str) -> None:
    try:
        members = parse_dictionary(text)
    except StructuredFieldError:
        return
    canonical = serialize_dictionary(members)
    assert parse_dictionary(canonical) == members
    for member in members.values():
        serialize_member(member)
