"""Mastodon.py posts, reads and reacts on weft as on Mastodon: an app logs in by OAuth,
uploads a picture, posts it, and two people talk, like, boost, edit, delete, page through
timelines, read notifications and keep their read markers."""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from mastodon import Mastodon, MastodonNotFoundError

from .conftest import OOB, PASSWORD, authorize, oob_code
from .served import Served
from .test_mastodon_py import SCOPES, registered


def photo() -> bytes:
    out = io.BytesIO()
    Image.radial_gradient("L").resize((320, 240)).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def logged_in_by_code(served: Served) -> Mastodon:
    api = registered(served)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    with httpx.Client(timeout=30) as browser:
        code = oob_code(authorize(browser, url))
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    return api


def wait_for(api: Mastodon, media: Any) -> Any:
    deadline = time.monotonic() + 60
    while media.url is None:
        assert time.monotonic() < deadline, "the upload was not processed within a minute"
        time.sleep(0.1)
        media = api.media(media)
    return media


def test_posting_reading_and_reacting_with_mastodon_py(served: Served) -> None:
    alice = logged_in_by_code(served)
    bob = registered(served)
    bob.log_in("bob", PASSWORD, scopes=SCOPES, allow_http=True)

    uploaded = alice.media_post(photo(), mime_type="image/jpeg", description="a round glow")
    media = wait_for(alice, uploaded)
    assert media.type == "image" and media.description == "a round glow" and media.url.startswith(served.url)
    first = alice.status_post("Hello #Weft world, @bob", media_ids=[media], spoiler_text="a picture",
                              visibility="public", language="en")
    assert first.media_attachments[0].id == media.id and first.spoiler_text == "a picture"
    assert first.mentions[0].acct == "bob" and first.tags[0].name == "weft"
    assert first.created_at.tzinfo is not None and first.account.acct == "alice"
    assert alice.status(first.id).content == first.content

    reply = bob.status_reply(first, "nice one")
    assert reply.in_reply_to_id == first.id and reply.spoiler_text == "a picture"
    assert reply.content.startswith("<p>") and "@<span>alice</span>" in reply.content
    context = alice.status_context(first)
    assert [s.id for s in context.descendants] == [reply.id] and context.ancestors == []

    assert bob.status_favourite(first).favourited is True
    boost = bob.status_reblog(first)
    assert boost.reblog.id == first.id and boost.account.acct == "bob"
    assert bob.status_bookmark(first).bookmarked is True
    assert [a.acct for a in alice.status_favourited_by(first)] == ["bob"]
    assert [a.acct for a in alice.status_reblogged_by(first)] == ["bob"]
    assert [s.id for s in bob.bookmarks()] == [first.id] and [s.id for s in bob.favourites()] == [first.id]
    assert bob.status_unfavourite(first).favourited is False
    assert bob.status_unreblog(first).reblogged is False
    assert bob.status_unbookmark(first).bookmarked is False
    assert bob.bookmarks() == [] and bob.favourites() == []
    bob.status_favourite(first)  # again, so that alice hears of it
    bob.status_reblog(first)

    edited = alice.status_update(first, "Hello again #Weft world", spoiler_text="still a picture",
                                 media_ids=[media.id])
    assert edited.edited_at is not None and "again" in edited.content
    history = alice.status_history(first)
    assert [h.spoiler_text for h in history] == ["a picture", "still a picture"]
    assert alice.status_source(first).text == "Hello again #Weft world"

    assert [s.id for s in alice.timeline_home()] == [first.id]
    assert [s.id for s in alice.timeline_local()] == [reply.id, first.id]
    assert [s.id for s in alice.timeline_public()] == [reply.id, first.id]
    assert [s.id for s in alice.timeline_hashtag("weft")] == [first.id]
    assert [s.id for s in alice.timeline_public(only_media=True)] == [first.id]

    notes = alice.notifications()
    assert [n.type for n in notes] == ["reblog", "favourite", "mention"]
    assert notes[2].status.id == reply.id and notes[0].account.acct == "bob"
    assert [n.type for n in alice.notifications(types=["mention"])] == ["mention"]
    alice.notifications_dismiss(notes[0])
    assert [n.type for n in alice.notifications()] == ["favourite", "mention"]
    assert bob.notifications()[0].type == "mention"

    markers = alice.markers_set(["home", "notifications"], [first.id, notes[1].id])
    assert markers.home.last_read_id == str(first.id)
    read = alice.markers_get(["home", "notifications"])
    assert read.notifications.last_read_id == str(notes[1].id) and read.home.version == 0
    alice.notifications_clear()
    assert alice.notifications() == []

    gone = alice.status_delete(first)
    assert gone.text == "Hello again #Weft world" and gone.spoiler_text == "still a picture"
    with pytest.raises(MastodonNotFoundError):
        alice.status(first.id)


def test_fetch_next_pages_through_a_timeline(served: Served) -> None:
    alice = logged_in_by_code(served)
    made = [alice.status_post(f"number {n}").id for n in range(5)]
    page = alice.timeline_home(limit=2)
    seen = [s.id for s in page]
    while True:
        page = alice.fetch_next(page)
        if not page:
            break
        seen += [s.id for s in page]
    assert seen == list(reversed(made))
    newest = alice.fetch_previous(alice.timeline_home(limit=2, max_id=made[2]))
    assert [s.id for s in newest] == [made[3], made[2]]  # the two just after the page
