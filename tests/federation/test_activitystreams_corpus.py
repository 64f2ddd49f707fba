"""The W3C Activity Streams 2.0 test corpus and captures from real servers, read whole.

The data lives outside the repository (../shared/testdata, see its README); a missing
folder fails these tests rather than letting them pass on nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from weft.federation.activitystreams import ActivityStreamsError, ASObject, Link, parse_document

from ..shared_testdata import SHARED_TESTDATA

TESTDATA = SHARED_TESTDATA
CORPUS = TESTDATA / "activitystreams"
CAPTURES = TESTDATA / "fediverse-captures"
NOT_AS2 = {"package.json"}

GOOD = sorted(path for path in CORPUS.glob("*.json") if path.name not in NOT_AS2)
BAD = sorted((CORPUS / "fail").glob("*.json"))
CAPTURED = sorted(CAPTURES.glob("*.json"))


def test_the_corpus_is_there() -> None:
    assert len(GOOD) >= 195 and len(BAD) >= 20 and len(CAPTURED) >= 15


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_corpus_document_parses(path: Path) -> None:
    parse_document(path.read_bytes())


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.name)
def test_every_known_bad_document_is_refused(path: Path) -> None:
    with pytest.raises(ActivityStreamsError):
        parse_document(path.read_bytes())


@pytest.mark.parametrize("path", CAPTURED, ids=lambda path: path.name)
def test_every_captured_activity_parses(path: Path) -> None:
    document = parse_document(path.read_bytes())
    assert isinstance(document, ASObject) and document.id and document.types


@pytest.mark.parametrize(("name", "says"), [
    ("number-as-actor.json", "actor: must be an IRI or an object, not a number"),
    ("relative-uri-for-url.json", "url: 'images/sally.jpg' is not an absolute IRI"),
    ("content-map-with-invalid-language-tag.json", "contentMap.de-419-DE"),
    ("namemap-as-name.json", "name.sp"),
    ("other-context.json", "@context: does not name the Activity Streams 2.0 context"),
    ("ordered-collection-with-items.json", "items: an ordered collection lists its items in orderedItems"),
    ("collection-with-non-page-first.json", "first: must be a collection page or a link, not Create"),
    ("bad-character-set.json", "not UTF-8"),
])
def test_the_refusal_names_the_property_and_what_is_wrong(name: str, says: str) -> None:
    with pytest.raises(ActivityStreamsError) as caught:
        parse_document((CORPUS / "fail" / name).read_bytes())
    assert says in str(caught.value)


def test_a_captured_mastodon_create_reads_as_mastodon_meant_it() -> None:
    create = parse_document((CAPTURES / "mastodon_flow_1_create_note.json").read_bytes())
    assert isinstance(create, ASObject) and create.types == ("Create",)
    (note,) = create.object
    assert isinstance(note, ASObject) and note.types == ("Note",)
    assert note.content == "<p>Creating Test Data!!! :)</p>"
    assert note.content_map == (("en", "<p>Creating Test Data!!! :)</p>"),)
    assert note.to == ("https://www.w3.org/ns/activitystreams#Public",)
    assert note.cc == ("https://mastodon/users/john/followers",)
    assert note.in_reply_to == () and note.summary is None and note.sensitive is False
    assert isinstance(note.replies, ASObject) and isinstance(note.replies.first, ASObject)
    assert note.replies.first.part_of == "https://mastodon/users/john/statuses/9876/replies"
    assert note.published is not None and note.published.isoformat() == "2023-02-04T08:52:55+00:00"


def test_a_peertube_video_keeps_its_links_hashtags_and_two_attributions() -> None:
    video = parse_document((CAPTURES / "peertube_create_video_1.json").read_bytes())
    assert isinstance(video, ASObject) and video.types == ("Video",)
    assert video.duration == "PT2679S" and video.media_type == "text/markdown"
    assert [tag.name for tag in video.tag if not isinstance(tag, str)] == ["fosdem", "hare", "kernels"]
    assert len(video.attributed_to) == 2 and len(video.icon) == 2
    page = video.url[0]
    assert isinstance(page, Link) and page.media_type == "text/html"
    assert page.href == "https://peertube/videos/watch/some3456-uuid"
