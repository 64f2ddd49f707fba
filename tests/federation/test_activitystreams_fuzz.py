"""Whatever arrives, the reader (and the display conversion after it) answers with a value or with
ActivityStreamsError, nothing else."""

from __future__ import annotations

import contextlib
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from weft.federation.activitystreams import (
    ActivityStreamsError,
    ASObject,
    Link,
    parse_document,
    parse_json,
)
from weft.federation.activitystreams_model import object_of
from weft.federation.activitystreams_reader import decode_json
from weft.federation.activitystreams_values import _checked_iri, read_datetime, read_iri
from weft.federation.remote_objects import remote_post

from ..shared_testdata import SHARED_TESTDATA

CORPUS = SHARED_TESTDATA / "activitystreams"
CAPTURES = CORPUS / ".." / "fediverse-captures"
SEEDS = [decode_json(path.read_bytes()) for folder, pattern in (
    (CORPUS, "simple00*.json"), (CORPUS, "vocabulary-ex1*-jsonld.json"), (CAPTURES, "*.json"))
    for path in sorted(folder.glob(pattern))]

PROPERTIES = [
    "@context", "id", "type", "name", "nameMap", "summary", "summaryMap", "content", "contentMap", "mediaType",
    "duration", "url", "href", "rel", "hreflang", "attributedTo", "actor", "object", "target", "origin", "result",
    "instrument", "to", "cc", "bto", "bcc", "audience", "published", "updated", "startTime", "endTime", "deleted",
    "inReplyTo", "attachment", "tag", "icon", "image", "location", "preview", "generator", "context", "replies",
    "likes", "shares", "subject", "describes", "formerType", "totalItems", "items", "orderedItems", "first", "last",
    "current", "next", "prev", "partOf", "startIndex", "oneOf", "anyOf", "closed", "votersCount", "latitude",
    "longitude", "altitude", "radius", "accuracy", "units", "width", "height", "blurhash", "focalPoint",
    "preferredUsername", "inbox", "outbox", "followers", "following", "liked", "featured", "featuredTags",
    "endpoints", "sharedInbox", "publicKey", "owner", "publicKeyPem", "alsoKnownAs", "movedTo",
    "manuallyApprovesFollowers", "discoverable", "sensitive", "value", "@language",
]
STRINGS = st.one_of(
    st.text(max_size=20),
    st.sampled_from([
        "https://www.w3.org/ns/activitystreams", "https://a.example/x", "https://", "http://a b", "as:Public",
        "Note", "Link", "Mention", "Hashtag", "Collection", "OrderedCollection", "CollectionPage",
        "OrderedCollectionPage", "as:Note", "Question", "Article", "Event", "Tombstone", "Image", "Emoji",
        "PropertyValue", "Document", "<p onclick=x>hi</p>", "text/markdown", "2024-01-01T00:00:00Z", "2024-13-01T00:00Z", "PT1H", "P", "en",
        "de-419-DE", "text/html", "image/png;x", "miles", "0", "1e999", "-3", "magnet:?x", "\x00", "\ud800",
    ]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), STRINGS)


def as2_shaped(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(PROPERTIES), STRINGS), children, max_size=6),
    )


AS2_VALUES = st.recursive(SCALARS, as2_shaped, max_leaves=40)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=30,
)


def reads_or_refuses(value: Any) -> None:
    """The reader, and the display conversion of what it reads, answer or raise the one error."""
    try:
        result = parse_json(value)
    except ActivityStreamsError:
        return
    assert isinstance(result, ASObject | Link)
    if isinstance(result, ASObject):
        for candidate in (result, *(obj for obj in result.object if isinstance(obj, ASObject))):
            with contextlib.suppress(ActivityStreamsError):
                post = remote_post(candidate, followers="https://a.example/x", actor="https://a.example/a")
                assert post.deleted or post.author is not None


@settings(max_examples=400, deadline=None)
@given(AS2_VALUES)
def test_as2_shaped_values_read_or_are_refused(value: Any) -> None:
    reads_or_refuses(value)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_reads_or_is_refused(value: Any) -> None:
    reads_or_refuses(value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_read_or_are_refused(raw: bytes) -> None:
    with contextlib.suppress(ActivityStreamsError):
        parse_document(raw)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_corpus_documents_with_one_value_replaced_read_or_are_refused(seed: Any, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(seed)))
    reads_or_refuses(_replace(seed, path, data.draw(AS2_VALUES)))


_IRI_PARTS = st.sampled_from(["http://", "https://", "http", "HTTP", "ws", "urn", "x", ":", "//", "/", "?", "#", "a.example",
                              ":8080", " ", "\t", "\x85", "\u2028", "\x7f", "é", "{|}", "\\", "-", ""])


@settings(max_examples=2000)
@given(st.lists(_IRI_PARTS, max_size=8).map("".join) | st.text(max_size=12))
@example("http:///x")
@example("https://?q")
@example("http://a b")
@example("http://a\u2028b")
def test_the_quick_iri_reading_answers_as_the_checks_do(text: str) -> None:
    def outcome(read: Any) -> str:
        try:
            return f"ok {read(text, 'p')}"
        except ActivityStreamsError as error:
            return f"refused {error}"
    assert outcome(read_iri) == outcome(_checked_iri)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS))
def test_objects_made_for_the_reader_equal_those_init_makes(seed: Any) -> None:
    with contextlib.suppress(ActivityStreamsError):
        document = parse_json(seed)
        if isinstance(document, ASObject):
            values = {field.name: getattr(document, field.name) for field in fields(ASObject)}
            made = ASObject(**values)
            assert made == document and hash(made) == hash(document) and repr(made) == repr(document)


def test_an_object_made_for_the_reader_is_frozen_and_knows_its_fields() -> None:
    made = object_of({"types": ("Note",), "content": "hi"})
    assert made == ASObject(types=("Note",), content="hi") and made.to == () and made.id is None
    with pytest.raises(FrozenInstanceError):
        made.content = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        object_of({"contents": "hi"})


@settings(max_examples=500)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(-14 * 60, 14 * 60) | st.sampled_from(["Z", "z", ""]))
def test_dates_read_as_the_moment_they_name_in_utc(moment: datetime, zone: int | str) -> None:
    text = moment.isoformat(timespec="microseconds")
    if isinstance(zone, int):
        text += f"{'-' if zone < 0 else '+'}{abs(zone) // 60:02d}:{abs(zone) % 60:02d}"
        expected = moment.replace(tzinfo=timezone(timedelta(minutes=zone)))
    else:
        text += zone
        expected = moment.replace(tzinfo=UTC)
    read = read_datetime(text, "p")
    assert read == expected and read.tzinfo is UTC
