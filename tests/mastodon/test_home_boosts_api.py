"""Boosts in the home timeline through the client API, as Mastodon.py reads them: reblog
wrappers merged by time with posts, paged through by max_id (Link headers), since_id and
min_id whichever kind of status a cursor is; a boost's own status id; undoing a boost;
deleting a boost by its id; kept pages that end when a boost comes; the user stream
sending the reblog."""

from __future__ import annotations

import httpx
import pytest

from mastodon import Mastodon, MastodonNotFoundError

from .conftest import PASSWORD
from .people import member
from .served import Served
from .test_mastodon_py import SCOPES, registered
from .test_streaming import WAIT_S, sse


def logged_in(served: Served, username: str) -> Mastodon:
    api = registered(served)
    api.log_in(username, PASSWORD, scopes=SCOPES, allow_http=True)
    return api


def test_home_pages_through_posts_and_reblogs_with_mastodon_py(served: Served) -> None:
    member(served, "dave")
    alice, bob, dave = (logged_in(served, name) for name in ("alice", "bob", "dave"))
    alice.account_follow(bob.me())
    d1, d2, d3 = (dave.status_post(f"dave {n}") for n in (1, 2, 3))
    b1 = bob.status_post("bob 1")
    bob_d1 = bob.status_reblog(d1)
    a1 = alice.status_post("alice 1")
    bob_d2 = bob.status_reblog(d2)
    own_d3 = alice.status_reblog(d3)
    everything = [own_d3.id, bob_d2.id, a1.id, bob_d1.id, b1.id]

    shown = alice.timeline_home()
    assert [s.id for s in shown] == everything
    assert shown[1].reblog.id == d2.id and shown[1].account.acct == "bob" and shown[1].reblog.account.acct == "dave"
    assert shown[0].reblogged is True and shown[0].reblog.reblogged is True and shown[2].reblog is None

    page, seen = alice.timeline_home(limit=2), []
    while page:
        seen.append([s.id for s in page])
        page = alice.fetch_next(page)
    assert seen == [everything[0:2], everything[2:4], everything[4:]]
    assert [s.id for s in alice.timeline_home(limit=2, min_id=b1.id)] == [a1.id, bob_d1.id]
    assert [s.id for s in alice.timeline_home(limit=2, min_id=bob_d1.id)] == [bob_d2.id, a1.id]
    assert [s.id for s in alice.timeline_home(since_id=bob_d2.id)] == [own_d3.id]
    assert [s.id for s in alice.fetch_previous(alice.timeline_home(limit=2, max_id=a1.id))] == [bob_d2.id, a1.id]

    read = alice.status(bob_d1.id)                       # a boost's own id reads as the reblog
    assert read.id == bob_d1.id and read.reblog.id == d1.id and read.account.acct == "bob"
    assert [s.id for s in alice.statuses([bob_d1.id, d1.id])] == [bob_d1.id, d1.id]
    kept = bob.status_unreblog(bob_d1.id)                # by the boost's own id: Mastodon finds no
    assert kept.id == bob_d1.id and kept.reblog.id == d1.id   # reblog *of* it and undoes nothing
    assert alice.status(bob_d1.id).reblog.id == d1.id
    undone = bob.status_unreblog(d1)                     # by the post's id, as apps undo it
    assert undone.id == d1.id and undone.reblogged is False
    with pytest.raises(MastodonNotFoundError):
        alice.status(bob_d1.id)
    assert [s.id for s in alice.timeline_home()] == [own_d3.id, bob_d2.id, a1.id, b1.id]
    with pytest.raises(MastodonNotFoundError):          # only its booster deletes a boost ...
        alice.status_delete(bob_d2)
    deleted = bob.status_delete(bob_d2)                 # ... by its own id, which undoes it (Mastodon)
    assert deleted.id == bob_d2.id and deleted.reblog.id == d2.id
    assert [s.id for s in alice.timeline_home()] == [own_d3.id, a1.id, b1.id]
    assert dave.status(d2.id).reblogs_count == 0


def test_a_kept_home_page_ends_when_a_boost_comes_and_the_user_stream_sends_it(served: Served) -> None:
    member(served, "dave")
    alice, bob, dave = (logged_in(served, name) for name in ("alice", "bob", "dave"))
    alice.account_follow(bob.me())
    daves = dave.status_post("dave's")
    assert alice.timeline_home() == []
    assert alice.timeline_home() == [] and len(served.site.social.pages._pages) >= 1   # kept
    with httpx.Client(base_url=served.url, timeout=WAIT_S) as client, \
            sse(client, "/api/v1/streaming/user", {"authorization": f"Bearer {alice.access_token}"}) as stream:
        boosted = bob.status_reblog(daves)
        sent = stream.update()
        assert sent["id"] == str(boosted.id) and sent["reblog"]["id"] == str(daves.id)
        assert sent["account"]["acct"] == "bob" and sent["reblog"]["account"]["acct"] == "dave"
    assert [s.id for s in alice.timeline_home()] == [boosted.id]   # the kept page did not outlive it
