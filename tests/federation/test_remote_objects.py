"""Remote objects as a timeline shows them: content, people, tags, media, polls, visibility."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from weft.federation.activitystreams import (
    ActivityStreamsError,
    ASObject,
    parse_document,
    parse_object,
)
from weft.federation.remote_objects import Emoji, Media, Mention, PollOption, remote_post

from ..shared_testdata import SHARED_TESTDATA

CAPTURES = SHARED_TESTDATA / "fediverse-captures"
AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS2 + "#Public"
ALICE = "https://m.example/users/alice"
FOLLOWERS = ALICE + "/followers"
BOB = "https://o.example/users/bob"


def post_of(followers: str | None = FOLLOWERS, **props: Any) -> Any:
    body = {"@context": AS2, "id": "https://m.example/notes/1", "type": "Note", "attributedTo": ALICE, **props}
    return remote_post(parse_object(orjson.dumps(body)), followers=followers)


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.json")), ids=lambda path: path.name)
def test_every_captured_object_converts(path: Path) -> None:
    activity = parse_document(path.read_bytes())
    assert isinstance(activity, ASObject)
    actor = activity.actor[0] if activity.actor and isinstance(activity.actor[0], str) else None
    if activity.has_type("Create", "Update", "Delete") and isinstance(activity.object[0], ASObject):
        post = remote_post(activity.object[0], actor=actor, followers=f"{actor}/followers")
        assert post.deleted == activity.has_type("Delete")
        assert post.author == actor
        assert activity.has_type("Delete") or (post.text and post.visibility == "public")
    elif activity.has_type("Video"):
        post = remote_post(activity, followers="https://peertube/accounts/ddevault/followers")
        assert post.author == "https://peertube/accounts/ddevault" and post.hashtags == ("fosdem", "hare", "kernels")
        assert post.text == "some title\n\nhttps://peertube/videos/watch/some3456-uuid"
        assert post.attachments[0].width == 850 and post.visibility == "public"


def test_a_mastodon_note_in_display_form() -> None:
    post = post_of(
        url="https://m.example/@alice/1", inReplyTo="https://o.example/notes/9",
        published="2024-05-01T10:00:00Z", summary="cw &amp; more", sensitive=True,
        content='<p>Hi <span class="h-card"><a href="https://o.example/@bob" class="u-url mention" target="_blank">'
                '@<span>bob</span></a></span> :blob: <a href="https://m.example/tags/Weft" class="mention hashtag" '
                'rel="tag">#<span>Weft</span></a></p>',
        contentMap={"en": "<p>other</p>"}, to=[PUBLIC], cc=[FOLLOWERS, BOB],
        tag=[{"type": "Mention", "href": BOB, "name": "@bob@o.example"},
             {"type": "Mention", "href": BOB, "name": "@bob@o.example"},
             {"type": "Hashtag", "href": "https://m.example/tags/weft", "name": "#Weft"},
             {"type": "Hashtag", "href": "https://m.example/tags/weft", "name": "#weft"},
             {"id": "https://m.example/emoji/1", "type": "Emoji", "name": ":blob:",
              "icon": {"type": "Image", "url": "https://m.example/blob.png"}}],
        attachment=[{"type": "Document", "mediaType": "image/png", "url": "https://m.example/a.png", "name": "a cat",
                     "blurhash": "UBL_:rOp", "width": 4, "height": 3},
                    {"type": "Document", "url": "javascript:alert(1)"},
                    {"type": "PropertyValue", "name": "x", "value": "y"}])
    assert post.author == ALICE and post.url == "https://m.example/@alice/1"
    assert post.in_reply_to == "https://o.example/notes/9"
    assert post.published == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert post.summary == "cw & more" and post.sensitive is True and post.language == "en"
    assert post.text == "Hi @bob :blob: #Weft"
    assert 'target' not in post.html and 'rel="nofollow noopener noreferrer"' in post.html
    assert post.mentions == (Mention(BOB, "@bob@o.example"),)
    assert post.hashtags == ("Weft",)
    assert post.emojis == (Emoji("blob", "https://m.example/blob.png"),)
    assert post.attachments == (Media(url="https://m.example/a.png", mime="image/png", alt="a cat",
                                      blurhash="UBL_:rOp", width=4, height=3),)
    assert post.visibility == "public" and post.poll is None and not post.deleted


@pytest.mark.parametrize(("to", "cc", "visibility"), [
    ([PUBLIC], [FOLLOWERS], "public"),
    (["as:Public"], [], "public"),
    (["Public", BOB], [], "public"),
    ([FOLLOWERS], [PUBLIC], "unlisted"),
    ([FOLLOWERS], ["as:Public", BOB], "unlisted"),
    ([FOLLOWERS], [BOB], "followers"),
    ([BOB], [FOLLOWERS], "followers"),
    ([BOB], [], "direct"),
    ([], [], "direct"),
    (["https://m.example/users/someone-else/followers"], [], "direct"),
])
def test_visibility_from_addressing(to: list[str], cc: list[str], visibility: str) -> None:
    assert post_of(to=to, cc=cc, content="x").visibility == visibility


def test_without_the_followers_collection_a_followers_only_post_counts_as_direct() -> None:
    assert post_of(followers=None, to=[FOLLOWERS], content="x").visibility == "direct"


def test_a_question_shows_its_options_and_counts_read_only() -> None:
    post = post_of(type="Question", content="<p>Tea?</p>", endTime="2024-06-01T00:00:00Z", votersCount=9,
                   anyOf=[{"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": 5}},
                          {"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": 4}},
                          {"type": "Note"}])
    assert post.text == "Tea?" and post.poll is not None
    assert post.poll.options == (PollOption("yes", 5), PollOption("no", 4)) and post.poll.multiple
    assert post.poll.voters_count == 9 and post.poll.ends_at == datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["Article", "Page"])
def test_an_article_shows_its_title_summary_and_link_not_its_body(kind: str) -> None:
    post = post_of(type=kind, name="On <weft>", summary="<p>Short <b>take</b></p>", content="<p>long body</p>",
                   url={"type": "Link", "href": "https://m.example/articles/1", "mediaType": "text/html"})
    assert post.kind == kind and post.url == "https://m.example/articles/1"
    assert post.text == "On <weft>\n\nShort take\n\nhttps://m.example/articles/1"
    assert "long body" not in post.html and "<strong>On &lt;weft&gt;</strong>" in post.html


def test_an_event_shows_when_and_where() -> None:
    post = post_of(type="Event", name="Meetup", startTime="2024-07-01T18:00:00+02:00",
                   endTime="2024-07-01T20:00:00Z", location={"type": "Place", "name": "Library"})
    assert post.text == ("Meetup\n\n2024-07-01 16:00 UTC – 2024-07-01 20:00 UTC · Library\n\n"
                         "https://m.example/notes/1")


def test_an_image_shows_itself_with_its_name_as_alt_text() -> None:
    post = post_of(type="Image", name="Sunset", mediaType="image/jpeg", url="https://m.example/sunset.jpg",
                   width=800, height=600)
    assert post.attachments == (Media(url="https://m.example/sunset.jpg", mime="image/jpeg", alt="Sunset",
                                      width=800, height=600),)
    assert post.url == "https://m.example/notes/1"


def test_a_tombstone_is_a_deleted_post() -> None:
    post = post_of(type="Tombstone", formerType="Note", deleted="2024-01-02T00:00:00Z")
    assert post.deleted and post.kind == "Tombstone" and post.html == "" and post.text == ""
    assert post.updated == datetime(2024, 1, 2, tzinfo=UTC)


def test_markdown_content_is_shown_as_text() -> None:
    post = post_of(mediaType="text/markdown", content="# Title\n\n<script>x</script> *hi*\nthere")
    assert post.html == "<p># Title</p><p>&lt;script&gt;x&lt;/script&gt; *hi*<br>there</p>"
    assert post.text == "# Title\n\n<script>x</script> *hi*\nthere"


def test_content_from_the_map_in_the_documents_language() -> None:
    body = {"@context": [AS2, {"@language": "de"}], "id": "https://m.example/n/2", "type": "Note",
            "attributedTo": ALICE, "contentMap": {"en": "<p>hello</p>", "de": "<p>hallo</p>"}}
    post = remote_post(parse_object(orjson.dumps(body)))
    assert (post.text, post.language) == ("hallo", "de")


def test_the_create_actor_stands_in_for_a_missing_author() -> None:
    note = parse_object(orjson.dumps({"id": "https://m.example/n/3", "type": "Note", "content": "x"}))
    assert remote_post(note, actor=ALICE).author == ALICE
    with pytest.raises(ActivityStreamsError, match="attributedTo: a post needs an author"):
        remote_post(note)


def test_a_group_is_not_taken_for_the_author() -> None:
    post = post_of(attributedTo=[{"type": "Group", "id": "https://m.example/g"}, BOB], content="x")
    assert post.author == BOB


@pytest.mark.parametrize(("props", "says"), [
    ({"type": "Person"}, "type: Person is not something a timeline shows"),
    ({"type": None}, "type: an untyped object is not something"),
    ({"id": None}, "id: a post needs one"),
])
def test_what_cannot_be_shown_is_refused(props: dict[str, Any], says: str) -> None:
    with pytest.raises(ActivityStreamsError, match=says):
        post_of(**props)
