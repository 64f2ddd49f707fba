"""Foreign entries: the committed vectors, round trips, and hostile headers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.core.content import encode_content
from weft.core.encoding import b64url, canonical, sha256
from weft.core.foreign import (
    ForeignEntry,
    check_foreign_content,
    check_foreign_time,
    decode_foreign,
    make_foreign,
)
from weft.core.foreign_vectors import build_foreign_vectors
from weft.core.ids import entry_id_text, is_actor_iri, is_person
from weft.errors import EntryRejected, WeftError

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "protocol" / "vectors" / "foreign.json"
COMMITTED = orjson.loads(VECTORS.read_bytes())


def test_committed_vectors_are_what_the_core_builds() -> None:
    assert orjson.loads(orjson.dumps(build_foreign_vectors())) == COMMITTED


@pytest.mark.parametrize("item", COMMITTED["valid"], ids=lambda item: item["name"])
def test_valid_vectors_decode_with_their_id_and_content(item: dict[str, Any]) -> None:
    entry = decode_foreign(item["header"].encode())
    assert entry_id_text(entry.id) == item["id"]
    assert check_foreign_content(entry, item["content"].encode())["type"]


@pytest.mark.parametrize("item", COMMITTED["invalid"], ids=lambda item: item["name"])
def test_invalid_vectors_are_refused_with_their_code(item: dict[str, Any]) -> None:
    with pytest.raises(EntryRejected) as caught:
        decode_foreign(item["header"].encode())
    assert caught.value.code == item["expected_code"]


def test_content_must_match_its_hash() -> None:
    entry, data = make_foreign({"type": "post", "text": "hi"}, author="https://a.example/u/a",
                               origin="https://a.example/n/1", via="fetch", ts=5)
    with pytest.raises(EntryRejected) as caught:
        check_foreign_content(entry, encode_content({"type": "post", "text": "ho"}))
    assert caught.value.code == "content_mismatch"
    assert check_foreign_content(entry, data) == {"type": "post", "text": "hi"}


def test_a_header_far_in_the_future_is_refused() -> None:
    entry, _ = make_foreign({"type": "post", "text": "hi"}, author="https://a.example/u/a",
                            origin="https://a.example/n/1", via="fetch", ts=10 * 60_000 + 1)
    check_foreign_time(entry, 1)
    with pytest.raises(EntryRejected) as caught:
        check_foreign_time(entry, 0)
    assert caught.value.code == "future_timestamp"


def test_non_canonical_bytes_are_refused_even_when_they_parse() -> None:
    good = COMMITTED["valid"][0]["header"]
    spaced = orjson.dumps(orjson.loads(good), option=orjson.OPT_INDENT_2)
    with pytest.raises(EntryRejected):
        decode_foreign(spaced)


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused(data: bytes) -> None:
    with contextlib.suppress(EntryRejected):
        decode_foreign(data)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 2**60), st.text(max_size=30),
                    st.sampled_from(["https://a.example/u", "http://b.example/x?y#z", "activitypub", "fetch"]))


@given(st.dictionaries(st.sampled_from(["v", "network", "author", "origin", "via", "ts", "content_hash",
                                        "content_size", "expires", "sig"]), _VALUES))
def test_any_header_object_decodes_or_is_refused(header: dict[str, Any]) -> None:
    try:
        raw = canonical(header)
    except WeftError:
        return
    try:
        entry = decode_foreign(raw)
    except EntryRejected:
        return
    assert is_actor_iri(entry.author) and is_actor_iri(entry.origin)


@pytest.mark.parametrize("value,ok", [
    ("https://mastodon.social/users/alice", True), ("http://localhost:8080/users/a", True),
    ("https://a.example/u?x=1#main-key", True), ("ftp://a.example/u", False), ("https:///nohost", False),
    ("https://a.example/u b", False), ("https://a.example/\x00", False), ("https://user@a.example/", False),
    ("did:weft:" + "a" * 48, False), ("https://a.example/" + "x" * 2100, False), (42, False),
])
def test_actor_iris(value: Any, ok: bool) -> None:
    assert is_actor_iri(value) is ok


def test_content_names_people_by_did_or_actor_iri() -> None:
    encode_content({"type": "follow", "target": "https://mastodon.example/users/bob"})
    encode_content({"type": "post", "text": "hi @bob", "mentions": ["https://mastodon.example/users/bob",
                                                                     "did:weft:" + "b" * 48]})
    assert is_person("did:weft:" + "b" * 48) and is_person("https://x.example/u") and not is_person("bob")
    with pytest.raises(WeftError):
        encode_content({"type": "follow", "target": "bob@mastodon.example"})
    with pytest.raises(WeftError):
        encode_content({"type": "post", "text": "x", "mentions": ["javascript:alert(1)"]})


def test_remote_attachments_and_urls() -> None:
    encode_content({"type": "post", "text": "pic", "url": "https://m.example/@a/1", "attachments": [
        {"url": "https://m.example/media/1.png", "preview": "https://m.example/media/1s.png", "mime": "image/png",
         "alt": "a cat", "width": 10, "height": 10}]})
    for bad in ({"url": "javascript:x"}, {"url": "https://m.example/1", "blob": "0" * 64},
                {"url": "https://m.example/1", "script": "x"}):
        with pytest.raises(WeftError):
            encode_content({"type": "post", "text": "pic", "attachments": [bad]})
    with pytest.raises(WeftError):
        encode_content({"type": "post", "text": "x", "url": "data:text/html,hi"})


def test_a_huge_header_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(EntryRejected) as caught:
        decode_foreign(b'{"origin":"https://a.example/' + b"x" * 10_000 + b'"}')
    assert caught.value.code == "oversize"


def made(make: Any) -> str:
    try:
        return repr(make())
    except WeftError as exc:
        return f"{type(exc).__name__}: {exc}"


@given(author=st.sampled_from(["https://a.example/u", "http://b.example:8/x", "ftp://c", "https://e\u0301.example/",
                               "https://a.example/" + "x" * 5000, ""]),
       origin=st.sampled_from(["https://a.example/n/1", "mailto:x", "https://a.example/" + "y" * 4000]),
       via=st.sampled_from(["signature", "fetch", "carrier pigeon"]),
       ts=st.integers(-5, 2**60) | st.sampled_from([True, 1.5]),
       expires=st.none() | st.integers(-5, 2**60))
def test_make_foreign_answers_as_decoding_its_own_bytes_would(author: str, origin: str, via: Any, ts: Any,
                                                              expires: int | None) -> None:
    # make_foreign checks the header it built rather than the bytes read back: the same checks.
    content = {"type": "like", "target": entry_id_text(bytes(32))}

    def by_decoding() -> ForeignEntry:
        data = encode_content(content)
        header: dict[str, Any] = {"v": 1, "network": "activitypub", "author": author, "origin": origin, "via": via,
                                  "ts": ts, "content_hash": b64url(sha256(data)), "content_size": len(data)}
        if expires is not None:
            header["expires"] = expires
        return decode_foreign(canonical(header))

    assert made(lambda: make_foreign(content, author=author, origin=origin, via=via, ts=ts, expires=expires)[0]) \
        == made(by_decoding)
