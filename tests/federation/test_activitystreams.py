"""Reading AS2 documents: what Mastodon and its relatives send, normalized; what is refused, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from weft.federation.activitystreams import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_NODES,
    ActivityStreamsError,
    ASObject,
    Link,
    PublicKey,
    iri_of,
    iris_of,
    parse_document,
    parse_json,
    parse_object,
)

AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS2 + "#Public"
MASTODON_CONTEXT: list[Any] = [AS2, "https://w3id.org/security/v1", {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers", "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"}, "discoverable": "toot:discoverable",
    "schema": "http://schema.org#", "PropertyValue": "schema:PropertyValue", "value": "schema:value",
    "blurhash": "toot:blurhash", "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"}}]


def doc(**props: Any) -> bytes:
    return orjson.dumps({"@context": AS2, **props})


def parsed(**props: Any) -> ASObject:
    return parse_object(doc(**props))


def refused(raw: bytes | dict[str, Any]) -> str:
    with pytest.raises(ActivityStreamsError) as caught:
        if isinstance(raw, dict):
            parse_json(raw)
        else:
            parse_document(raw)
    return str(caught.value)


def test_a_mastodon_note_with_mentions_hashtags_emoji_and_media() -> None:
    note = parse_object(orjson.dumps({
        "@context": MASTODON_CONTEXT, "id": "https://m.example/users/a/statuses/1", "type": "Note",
        "attributedTo": "https://m.example/users/a", "inReplyTo": "https://o.example/notes/9",
        "published": "2024-05-01T10:00:00Z", "updated": "2024-05-01T11:30:00.123456789+02:00",
        "summary": "spoilers", "sensitive": True, "content": "<p>hi</p>", "contentMap": {"de-CH": "<p>hi</p>"},
        "to": [PUBLIC], "cc": ["https://m.example/users/a/followers", "https://o.example/users/b"],
        "tag": [{"type": "Mention", "href": "https://o.example/users/b", "name": "@b@o.example"},
                {"type": "Hashtag", "href": "https://m.example/tags/weft", "name": "#weft"},
                {"id": "https://m.example/emojis/1", "type": "Emoji", "name": ":blob:",
                 "icon": {"type": "Image", "mediaType": "image/png", "url": "https://m.example/blob.png"}}],
        "attachment": [{"type": "Document", "mediaType": "image/JPEG", "url": "https://m.example/a.jpg",
                        "name": "a cat", "blurhash": "UBL_:rOpGG-oBUNG", "focalPoint": [-0.5, 0.25],
                        "width": 640, "height": 480}],
    }))
    assert note.types == ("Note",) and note.sensitive is True and note.summary == "spoilers"
    assert note.in_reply_to == ("https://o.example/notes/9",)
    assert note.updated == datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)
    mention, hashtag, emoji = note.tag
    assert isinstance(mention, Link) and mention.types == ("Mention",) and mention.name == "@b@o.example"
    assert isinstance(hashtag, Link) and hashtag.href == "https://m.example/tags/weft"
    assert isinstance(emoji, ASObject) and iris_of(emoji.icon) == ()
    assert isinstance(emoji.icon[0], ASObject) and emoji.icon[0].url == ("https://m.example/blob.png",)
    (media,) = note.attachment
    assert isinstance(media, ASObject) and media.media_type == "image/jpeg" and media.name == "a cat"
    assert media.focal_point == (-0.5, 0.25) and (media.width, media.height) == (640, 480)


def test_a_mastodon_actor_document() -> None:
    person = parse_object(orjson.dumps({
        "@context": MASTODON_CONTEXT, "id": "https://m.example/users/a", "type": "Person",
        "preferredUsername": "a", "name": "A", "inbox": "https://m.example/users/a/inbox",
        "outbox": "https://m.example/users/a/outbox", "followers": "https://m.example/users/a/followers",
        "following": "https://m.example/users/a/following", "featured": "https://m.example/users/a/featured",
        "manuallyApprovesFollowers": True, "discoverable": False,
        "endpoints": {"sharedInbox": "https://m.example/inbox"},
        "publicKey": {"id": "https://m.example/users/a#main-key", "owner": "https://m.example/users/a",
                      "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n..."},
        "alsoKnownAs": ["https://old.example/users/a"], "movedTo": "https://new.example/users/a",
        "attachment": [{"type": "PropertyValue", "name": "Site", "value": "<a href=\"https://a.example\">a</a>"}],
        "icon": {"type": "Image", "url": "https://m.example/avatar.png"},
    }))
    assert person.inbox == "https://m.example/users/a/inbox" and person.shared_inbox == "https://m.example/inbox"
    assert person.public_keys == (PublicKey(id="https://m.example/users/a#main-key", owner="https://m.example/users/a",
                                            pem="-----BEGIN PUBLIC KEY-----\n..."),)
    assert person.also_known_as == ("https://old.example/users/a",)
    assert person.moved_to == "https://new.example/users/a"
    assert person.manually_approves_followers is True and person.discoverable is False
    (field,) = person.attachment
    assert isinstance(field, ASObject) and field.has_type("PropertyValue") and field.value is not None


def test_a_poll_with_its_options_and_counts() -> None:
    question = parsed(type="Question", id="https://m.example/q/1", endTime="2024-06-01T00:00:00Z",
                      votersCount=7, closed=True, oneOf=[
                          {"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": 5}},
                          {"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": 2}}])
    assert question.voters_count == 7 and question.closed is True
    counts = [(o.name, o.replies.total_items) for o in question.one_of
              if isinstance(o, ASObject) and isinstance(o.replies, ASObject)]
    assert counts == [("yes", 5), ("no", 2)]


@pytest.mark.parametrize("spelling", ["Note", "as:Note", AS2 + "#Note", "http://www.w3.org/ns/activitystreams#Note"])
def test_type_names_in_the_as2_namespace_are_one_name(spelling: str) -> None:
    assert parsed(type=[spelling, "http://example.org/Extra"]).types == ("Note", "http://example.org/Extra")


def test_the_context_language_is_inherited_and_a_nested_context_may_change_it() -> None:
    create = parse_object(orjson.dumps({
        "@context": [AS2, {"@language": "fr"}], "type": "Create",
        "object": {"@context": {"@language": "de"}, "type": "Note", "content": "Hallo",
                   "tag": {"type": "Note"}}}))
    assert create.language == "fr"
    (note,) = create.object
    assert isinstance(note, ASObject) and note.language == "de"
    assert isinstance(note.tag[0], ASObject) and note.tag[0].language == "de"


def test_single_values_and_arrays_read_the_same() -> None:
    assert parsed(to=PUBLIC).to == parsed(to=[PUBLIC]).to == (PUBLIC,)
    assert parsed(summary=None).summary is None and parsed(to=[None, PUBLIC]).to == (PUBLIC,)


def test_the_public_collection_is_its_iri_however_spelled() -> None:
    assert parsed(to=["Public", "as:Public"], cc=PUBLIC).to == (PUBLIC, PUBLIC)


def test_links_and_refs() -> None:
    image = parsed(type="Image", url=[{"href": "https://a.example/x.png", "mediaType": "image/png", "rel": ["x", "y"],
                                       "hreflang": "en-GB", "width": 5}, "https://a.example/y.png"])
    link, plain = image.url
    assert isinstance(link, Link) and link.types == ("Link",) and link.rel == ("x", "y")
    assert iri_of(link) == "https://a.example/x.png" and iri_of(plain) == "https://a.example/y.png"


def test_numbers_in_strings_where_the_vocabulary_types_them() -> None:
    place = parsed(type="Place", latitude="37.7833", longitude=-122, radius=15, units="miles")
    assert (place.latitude, place.longitude, place.units) == (37.7833, -122.0, "miles")
    assert parsed(type="Collection", totalItems="3").total_items == 3


@pytest.mark.parametrize(("props", "says"), [
    ({"id": "/notes/1"}, "id: '/notes/1' is not an absolute IRI"),
    ({"id": "https:///path"}, "id: 'https:///path' names no host"),
    ({"id": "https://a.example/a b"}, "id: the IRI holds a space"),
    ({"type": ["Note", 3]}, "type[1]: must be a string, not a number"),
    ({"type": ""}, "type: an empty type name"),
    ({"to": [PUBLIC, ["nested"]]}, "to[1]: must be an IRI or an object, not an array"),
    ({"object": {"type": "Note", "attributedTo": True}}, "object.attributedTo: must be an IRI or an object, not a boolean"),
    ({"object": {"tag": [{"type": "Mention", "name": "@x"}]}}, "object.tag[0].href: a link needs an href"),
    ({"published": "yesterday"}, "published: 'yesterday' is not an xsd:dateTime"),
    ({"published": "2024-02-30T00:00:00Z"}, "is not a date and time that exists"),
    ({"updated": "2024-01-01T00:00:00+15:00"}, "zone offset beyond 14 hours"),
    ({"duration": "2 hours"}, "duration: '2 hours' is not an xsd:duration"),
    ({"mediaType": "jpeg"}, "mediaType: 'jpeg' is not a media type"),
    ({"contentMap": {"en": 5}}, "contentMap.en: must be a string, not a number"),
    ({"summaryMap": {"en_GB": "x"}}, "summaryMap.en_GB: 'en_GB' is not a valid BCP 47 language tag"),
    ({"totalItems": -1}, "totalItems: must be a non-negative integer"),
    ({"width": 1.5}, "width: must be a non-negative integer"),
    ({"latitude": "north"}, "latitude: must be a number, not a string"),
    ({"sensitive": "false"}, "sensitive: must be true or false, not a string"),
    ({"focalPoint": [0, 2]}, "focalPoint: coordinates must lie between -1 and 1"),
    ({"focalPoint": [0]}, "focalPoint: must be an array of two numbers"),
    ({"replies": ["https://a.example/r1", "https://a.example/r2"]}, "replies: takes one value, not an array"),
    ({"type": "OrderedCollection", "first": {"type": "Note"}}, "first: must be a collection page or a link, not Note"),
    ({"type": "OrderedCollectionPage", "items": []}, "items: an ordered collection lists its items in orderedItems"),
    ({"items": [], "orderedItems": []}, "items: both items and orderedItems"),
    ({"inbox": 5}, "inbox: must be a string, not a number"),
    ({"inbox": {"type": "OrderedCollection"}}, "inbox.id: must be a string, not null"),
    ({"endpoints": [1]}, "endpoints: must be an object, not an array"),
    ({"endpoints": {"sharedInbox": "inbox"}}, "endpoints.sharedInbox: 'inbox' is not an absolute IRI"),
    ({"publicKey": {"owner": "https://a.example/"}}, "publicKey.id: must be a string, not null"),
    ({"publicKey": 7}, "publicKey: a public key is an object, not a number"),
    ({"alsoKnownAs": ["https://a.example/", 1]}, "alsoKnownAs[1]: must be a string, not a number"),
    ({"rel": "x"}, None),  # rel is a Link's property: on an object it is an extension, left unread
    ({"type": "Link", "href": "https://a.example/", "rel": "a b"}, "rel: a link relation holds no spaces or commas"),
    ({"type": "Link", "href": "https://a.example/", "hreflang": "xx-"}, "hreflang: 'xx-' is not a valid BCP 47"),
    ({"units": "parsecs"}, "units: 'parsecs' is not an absolute IRI"),
])
def test_bad_values_are_refused_with_their_path(props: dict[str, Any], says: str | None) -> None:
    if says is None:
        parse_document(doc(**props))
        return
    assert says in refused(doc(**props))


@pytest.mark.parametrize(("context", "says"), [
    ("https://schema.org", "@context: does not name the Activity Streams 2.0 context"),
    (["https://w3id.org/security/v1", {"toot": "http://joinmastodon.org/ns#"}], "does not name the Activity"),
    ([], "does not name the Activity"),
    ([AS2, 3], "@context[1]: a context is an IRI or an object, not a number"),
    ([AS2, {"@language": "klingon!"}], "@context[1].@language: 'klingon!' is not a valid BCP 47"),
])
def test_a_context_other_than_as2_is_refused(context: Any, says: str) -> None:
    assert says in refused(orjson.dumps({"@context": context, "type": "Note"}))


def test_bare_documents_without_a_context_are_read_as_as2() -> None:
    assert parse_object(b"{}") == ASObject()
    assert parse_object(b'{"type": "Note", "content": "x"}').content == "x"


@pytest.mark.parametrize(("raw", "says"), [
    (b"", "not JSON"), (b"{", "not JSON"), (b"[1]", "must be a JSON object, not an array"),
    (b"null", "must be a JSON object, not null"), (b'{"a": NaN}', "not JSON"),
    (b'{"content": "\\ud800"}', "not JSON"), (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
])
def test_bytes_that_are_not_a_json_object_are_refused(raw: bytes, says: str) -> None:
    assert says in refused(raw)


def test_raw_line_breaks_inside_strings_are_taken_as_the_corpus_has_them() -> None:
    assert parse_object(b'{"content": "two\nlines"}').content == "two\nlines"


def test_a_link_document_is_not_an_object() -> None:
    assert isinstance(parse_document(doc(type="Link", href="https://a.example/")), Link)
    assert "a Link, where an object was expected" in refused_object(doc(type="Link", href="https://a.example/"))


def refused_object(raw: bytes) -> str:
    with pytest.raises(ActivityStreamsError) as caught:
        parse_object(raw)
    return str(caught.value)


def test_objects_nested_too_deep_are_refused_without_recursing_far() -> None:
    nested: dict[str, Any] = {"type": "Note"}
    for _ in range(MAX_DEPTH + 5):
        nested = {"type": "Announce", "object": nested}
    assert f"nested more than {MAX_DEPTH} deep" in refused(nested)
    shallow: dict[str, Any] = {"type": "Note"}
    for _ in range(MAX_DEPTH - 1):
        shallow = {"type": "Announce", "object": shallow}
    parse_json(shallow)


def test_too_many_values_or_bytes_are_refused() -> None:
    many = {"type": "Note", "to": [f"https://a.example/{i}" for i in range(MAX_NODES + 1)]}
    assert f"more than {MAX_NODES} values" in refused(many)
    big = json.dumps({key: "x" * (MAX_DOCUMENT_BYTES // 3) for key in ("content", "summary", "name", "value")}).encode()
    assert "larger than" in refused(big)
    assert parse_document(big, limit=2 * MAX_DOCUMENT_BYTES)
