"""Mastodon.py on people: find, follow (and ask a locked account), look at someone's posts
and followers, block and mute, search and trends, and an avatar of one's own; the library
reads weft's answers as it reads Mastodon's."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from .conftest import PASSWORD
from .people import member
from .served import Served
from .test_mastodon_py import SCOPES, registered


def logged_in(served: Served, username: str) -> Mastodon:
    api = registered(served)
    api.log_in(username, PASSWORD, scopes=SCOPES, allow_http=True)
    return api


def test_people_follow_look_block_mute_and_search(served: Served) -> None:
    member(served, "carol")
    member(served, "dave")
    alice, bob, carol, dave = (logged_in(served, name) for name in ("alice", "bob", "carol", "dave"))
    me = alice.account_verify_credentials()
    for text in ("one #weft", "two", "three #Weft"):
        alice.status_post(text)

    found = bob.account_search("ali")
    assert [a.acct for a in found] == ["alice"] and found[0].id == me.id
    followed = bob.account_follow(me.id, reblogs=False, notify=True)
    assert followed.following is True and followed.requested is False and followed.id == me.id
    assert bob.account_relationships([me.id])[0].following is True
    assert alice.account_relationships(bob.me().id)[0].followed_by is True

    page = bob.account_statuses(me.id, limit=2)
    assert page[0].content.startswith("<p>three ") and page[1].content == "<p>two</p>"
    rest = bob.fetch_next(page)
    assert rest is not None and [s.content[:6] for s in rest] == ["<p>one"]
    assert [s.id for s in bob.account_statuses(me.id, tagged="weft")] == [page[0].id, rest[0].id]
    assert [a.acct for a in bob.account_followers(me.id)] == ["bob"]
    assert [a.acct for a in bob.account_following(bob.me().id)] == ["alice"]

    # alice locks her account: carol's follow is a request alice lets in, dave's one she turns away.
    assert alice.account_update_credentials(locked=True).locked is True
    assert bob.account_relationships(me.id)[0].following is True  # locking keeps the followers it had
    assert carol.account_follow(me.id).requested is True
    assert dave.account_follow(me.id).requested is True
    assert sorted(a.acct for a in alice.follow_requests()) == ["carol", "dave"]
    assert [a.acct for a in alice.account_followers(me.id)] == ["bob"]
    let_in = alice.follow_request_authorize(carol.me().id)
    assert let_in.followed_by is True and let_in.requested_by is False
    turned_away = alice.follow_request_reject(dave.me().id)
    assert turned_away.followed_by is False and turned_away.requested_by is False
    assert alice.follow_requests() == []
    assert carol.account_relationships(me.id)[0].following is True
    assert dave.account_relationships(me.id)[0].requested is False
    with pytest.raises(MastodonNotFoundError):
        alice.follow_request_authorize(dave.me().id)

    muted = bob.account_mute(me.id)
    assert muted.muting is True and [a.acct for a in bob.mutes()] == ["alice"]
    assert bob.account_unmute(me.id).muting is False and bob.mutes() == []
    blocked = bob.account_block(dave.me().id)
    assert blocked.blocking is True and [a.acct for a in bob.blocks()] == ["dave"]
    assert dave.account_relationships(bob.me().id)[0].blocked_by is True
    with pytest.raises(MastodonAPIError):
        dave.account_follow(bob.me().id)
    assert bob.account_unblock(dave.me().id).blocking is False and bob.blocks() == []
    assert bob.account_unfollow(me.id).following is False
    with pytest.raises(MastodonNotFoundError):
        bob.account_follow("999999")

    results = carol.search_v2("weft")
    assert [t.name for t in results.hashtags] == ["weft"]
    assert int(results.hashtags[0].history[0].uses) == 2
    assert sorted(s.id for s in carol.search_v2("weft", result_type="statuses").statuses) == sorted(
        [page[0].id, rest[0].id])
    assert [a.acct for a in carol.search_v2("alice", result_type="accounts").accounts] == ["alice"]
    trends = carol.trending_tags()
    assert trends[0].name == "weft" and int(trends[0].history[0].accounts) == 1


def test_an_avatar_through_mastodon_py(served: Served) -> None:
    api = logged_in(served, "alice")
    out = io.BytesIO()
    Image.new("RGB", (600, 600), (30, 60, 90)).save(out, "PNG")
    changed = api.account_update_credentials(avatar=out.getvalue(), avatar_mime_type="image/png",
                                             display_name="Alice with a face")
    assert changed.display_name == "Alice with a face"
    avatar = api.account_verify_credentials().avatar
    assert avatar == changed.avatar and avatar.startswith(f"{served.url}/media/")
    digest = re.fullmatch(rf"{re.escape(served.url)}/media/([0-9a-f]{{64}})", avatar)
    assert digest is not None
    # This test's server is the client API alone; test_profile_images fetches the URL from the whole site.
    kept = Image.open(io.BytesIO(served.site.blobs.get(digest.group(1))))
    assert kept.format == "PNG" and kept.size == (400, 400)
    assert api.account(changed.id).avatar == avatar
