"""Entries: what a node accepts, and the reason it gives for what it refuses."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.content import MAX_CONTENT_BYTES, decode_content, encode_content
from weft.core.encoding import b64url, canonical, sha256
from weft.core.entry import (
    MAX_FUTURE_SKEW_MS,
    MAX_HEADER_BYTES,
    Entry,
    Reason,
    check_chain,
    check_content,
    check_signature,
    decode_entry,
    sign_entry,
    signing_bytes,
    verify_entry,
)
from weft.core.identity import check_device
from weft.errors import EntryRejected

from .alice import DID, LAPTOP, MALLORY, NOW, PHONE, STATE, T0, chain, post

LOG = chain(LAPTOP, 3)
FIRST, SECOND, THIRD = LOG
CONTENT = post("entry 2")


def rejected(code: Reason) -> Any:
    """pytest.raises for EntryRejected with ``code``, whose message starts with the code."""
    return pytest.raises(EntryRejected, match=f"^{code.value}: ")


def unsigned(entry: Entry, **changes: Any) -> dict[str, Any]:
    header = entry.unsigned()
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None or k == "prev"}


def resign(header: dict[str, Any], key: Any = LAPTOP) -> bytes:
    signature = key.sign(orjson.dumps(header, option=orjson.OPT_SORT_KEYS))
    return orjson.dumps({**header, "sig": b64url(signature)}, option=orjson.OPT_SORT_KEYS)


def verify_second(raw: bytes, content: bytes | None = CONTENT) -> Entry:
    entry = verify_entry(raw, content, head_seq=1, head_id=FIRST.id, now_ms=NOW)
    check_device(entry, STATE)
    return entry


def test_a_signed_entry_verifies_and_chains() -> None:
    entry = verify_second(SECOND.raw)
    assert entry == SECOND
    assert entry.id == sha256(SECOND.raw)
    assert len(entry.id_text) == 52
    assert signing_bytes(entry) == canonical(entry.unsigned())


def test_an_entry_without_its_content_still_verifies() -> None:
    assert verify_second(SECOND.raw, None) == SECOND


# -- any change is refused --------------------------------------------------


@settings(max_examples=300)
@given(st.data())
def test_any_single_byte_change_to_a_signed_header_is_rejected(data: st.DataObject) -> None:
    raw = SECOND.raw
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]), label="byte")
    changed = raw[:index] + bytes([byte]) + raw[index + 1 :]
    with pytest.raises(EntryRejected):
        verify_second(changed, None)
    with pytest.raises(EntryRejected):  # the order-free pair alone already refuses it
        check_signature(decode_entry(changed))


@settings(max_examples=200)
@given(st.data())
def test_any_single_bit_flip_in_a_signed_header_is_rejected(data: st.DataObject) -> None:
    raw = SECOND.raw
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    bit = data.draw(st.integers(0, 7), label="bit")
    changed = raw[:index] + bytes([raw[index] ^ (1 << bit)]) + raw[index + 1 :]
    with pytest.raises(EntryRejected):
        check_signature(decode_entry(changed))


@settings(max_examples=200)
@given(st.data())
def test_any_single_byte_change_to_content_is_rejected(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(CONTENT) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != CONTENT[index]), label="byte")
    with rejected(Reason.CONTENT_MISMATCH):
        check_content(SECOND, CONTENT[:index] + bytes([byte]) + CONTENT[index + 1 :])


@settings(max_examples=100)
@given(st.integers(1, len(SECOND.raw) - 1))
def test_a_truncated_header_is_malformed(length: int) -> None:
    with rejected(Reason.MALFORMED):
        decode_entry(SECOND.raw[:length])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=60),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(SECOND.unsigned())), json_values)
def test_any_field_of_any_json_type_is_refused_with_a_reason_not_a_crash(field: str, value: Any) -> None:
    header = unsigned(SECOND)
    header[field] = value
    try:
        entry = decode_entry(resign(header))
    except EntryRejected as exc:
        assert exc.code in (Reason.MALFORMED, Reason.OVERSIZE)
        return
    assert getattr(entry, field if field != "v" else "seq") is not None  # value happened to be valid


# -- one test per reason ----------------------------------------------------


def test_malformed_non_canonical_header() -> None:
    with rejected(Reason.MALFORMED):
        verify_second(SECOND.raw.replace(b'"seq":', b'"seq": '))


def test_malformed_missing_field() -> None:
    header = unsigned(SECOND)
    del header["content_size"]
    with rejected(Reason.MALFORMED):
        verify_second(resign(header))


def test_malformed_float_version() -> None:
    with rejected(Reason.MALFORMED):
        verify_second(resign(unsigned(SECOND, v=1.0)))


def test_malformed_prev_on_seq_1_or_missing_later() -> None:
    with rejected(Reason.MALFORMED):
        decode_entry(resign(unsigned(FIRST, prev=SECOND.id_text)))
    with rejected(Reason.MALFORMED):
        decode_entry(resign(unsigned(SECOND, prev=None)))


def test_malformed_expiry_before_the_entry() -> None:
    with rejected(Reason.MALFORMED):
        decode_entry(resign(unsigned(SECOND, expires=SECOND.ts)))
    assert decode_entry(resign(unsigned(SECOND, expires=SECOND.ts + 1))).expires == SECOND.ts + 1


def test_malformed_content() -> None:
    content = b'{"type":"post"}'
    entry = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=T0, content=content)
    with rejected(Reason.MALFORMED):
        verify_second(entry.raw, content)


def test_oversize_header() -> None:
    raw = resign(unsigned(SECOND, padding="x" * MAX_HEADER_BYTES))
    assert len(raw) > MAX_HEADER_BYTES
    with rejected(Reason.OVERSIZE):
        verify_second(raw)


def test_oversize_content() -> None:
    with rejected(Reason.OVERSIZE):
        verify_second(resign(unsigned(SECOND, content_size=MAX_CONTENT_BYTES + 1)), None)


def test_bad_signature() -> None:
    with rejected(Reason.BAD_SIGNATURE):
        verify_second(resign(unsigned(SECOND), key=PHONE))


def test_broken_chain() -> None:
    other = chain(LAPTOP, 1, ts=T0 + 99)[0]
    with rejected(Reason.BROKEN_CHAIN):
        check_chain(SECOND, 1, other.id)
    with rejected(Reason.BROKEN_CHAIN):
        verify_entry(THIRD.raw, None, head_seq=2, head_id=FIRST.id, now_ms=NOW)


def test_gap() -> None:
    with rejected(Reason.GAP):
        check_chain(THIRD, 1, FIRST.id)
    with rejected(Reason.GAP):
        check_chain(SECOND, 0, None)


def test_content_mismatch() -> None:
    with rejected(Reason.CONTENT_MISMATCH):
        verify_second(SECOND.raw, post("entry 3"))
    with rejected(Reason.CONTENT_MISMATCH):
        verify_second(SECOND.raw, CONTENT + b" ")


def test_unauthorized_device() -> None:
    stranger = chain(MALLORY, 1)[0]
    with rejected(Reason.UNAUTHORIZED_DEVICE):
        check_device(stranger, STATE)


def test_unauthorized_device_of_another_author() -> None:
    other = chain(LAPTOP, 1, author="did:weft:" + "a" * 48)[0]
    with rejected(Reason.UNAUTHORIZED_DEVICE):
        check_device(other, STATE)


def test_revoked_device_after_its_last_seq() -> None:
    phone = chain(PHONE, 3, ts=T0)
    check_device(phone[0], STATE)
    check_device(phone[1], STATE)
    with rejected(Reason.REVOKED_DEVICE):
        check_device(phone[2], STATE)


def test_future_timestamp() -> None:
    late = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=NOW + MAX_FUTURE_SKEW_MS + 1, content=CONTENT)
    with rejected(Reason.FUTURE_TIMESTAMP):
        verify_second(late.raw)
    edge = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=NOW + MAX_FUTURE_SKEW_MS, content=CONTENT)
    assert verify_second(edge.raw) == edge


def test_unknown_identity() -> None:
    with rejected(Reason.UNKNOWN_IDENTITY):
        check_device(SECOND, None)


def test_fork_is_left_to_the_caller() -> None:
    """Two valid entries at one (device, seq): each verifies; the core refuses neither, so ingest can."""
    other = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=SECOND.ts, content=post("other"))
    assert verify_second(other.raw, post("other")).id != SECOND.id
    check_chain(SECOND, 2, SECOND.id)  # at or below the head: no verdict from the chain check
    check_chain(other, 2, SECOND.id)


def test_reason_codes_are_stable() -> None:
    assert {reason.value for reason in Reason} == {
        "malformed", "oversize", "bad_signature", "broken_chain", "gap", "content_mismatch",
        "unauthorized_device", "revoked_device", "future_timestamp", "fork", "forked_log",
        "unknown_identity", "blocked"}
    assert str(Reason.GAP) == "gap"


# -- content types ----------------------------------------------------------

TARGET = SECOND.id_text
CONTENTS = [
    {"type": "post", "text": "hi"},
    {"type": "post", "text": "re", "reply_to": TARGET, "root": TARGET, "mentions": [DID], "tags": ["a"],
     "visibility": "followers", "summary": "cw", "sensitive": True, "attachments": ["x"], "board": "b",
     "lang": "en"},
    {"type": "edit", "target": TARGET, "text": "new", "summary": "s", "sensitive": False},
    {"type": "delete", "target": TARGET},
    {"type": "like", "target": TARGET},
    {"type": "boost", "target": TARGET},
    *({"type": kind, "target": DID} for kind in ("follow", "unfollow", "block", "unblock", "mute", "unmute")),
    {"type": "profile", "name": "A", "bio": "b", "avatar": "x", "header": "y", "fields": [["k", "v"]],
     "locked": True, "bot": False},
    {"type": "poll", "question": "?", "options": [1, 2]},
]


@pytest.mark.parametrize("content", CONTENTS, ids=lambda c: str(c["type"]))
def test_each_content_type_round_trips_through_an_entry(content: dict[str, Any]) -> None:
    data = encode_content(content)
    entry = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=T0, content=data)
    assert verify_second(entry.raw, data) == entry
    assert check_content(entry, data) == content
    assert decode_content(data) == content


@pytest.mark.parametrize("content", [
    {"type": "post"},
    {"type": "post", "text": 1},
    {"type": "post", "text": "x" * 16_001},
    {"type": "post", "text": "x", "root": TARGET},
    {"type": "post", "text": "x", "reply_to": "not an id"},
    {"type": "post", "text": "x", "visibility": "everyone"},
    {"type": "post", "text": "x", "mentions": ["@bob"]},
    {"type": "post", "text": "x", "tags": ["t"] * 65},
    {"type": "post", "text": "x", "colour": "red"},
    {"type": "edit", "text": "x"},
    {"type": "like", "target": DID},
    {"type": "follow", "target": TARGET},
    {"type": "profile", "fields": [["only one"]]},
    {"type": "profile", "bot": "yes"},
    {"type": ""},
    {"type": 3},
    {"text": "no type"},
], ids=repr)
def test_invalid_content_is_malformed(content: dict[str, Any]) -> None:
    data = canonical(content)
    entry = sign_entry(LAPTOP, author=DID, seq=2, prev=FIRST.id, ts=T0, content=data)
    with rejected(Reason.MALFORMED):
        check_content(entry, data)
