"""Following, follow requests, blocks and mutes through the client API: what each side
sees afterwards, what the posts of a locked or blocking account show, and the refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from weft.social import Draft

from .people import account_of, member, token
from .served import Served


def _relation(client: httpx.Client, headers: dict[str, str], identity: int) -> dict[str, object]:
    found = client.get("/api/v1/accounts/relationships", params={"id[]": str(identity)}, headers=headers)
    assert found.status_code == 200, found.text
    assert len(found.json()) == 1
    return dict(found.json()[0])


def test_follow_and_unfollow_show_on_both_sides(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice, as_bob = token(client, "alice"), token(client, "bob")
        followed = client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_alice,
                               data={"reblogs": "false", "notify": "true"})
        assert followed.status_code == 200, followed.text
        assert followed.json() == {
            "id": str(bob.identity), "following": True, "showing_reblogs": True, "notifying": False,
            "languages": None, "followed_by": False, "blocking": False, "blocked_by": False, "muting": False,
            "muting_notifications": False, "requested": False, "requested_by": False, "domain_blocking": False,
            "endorsed": False, "note": ""}
        again = client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_alice)
        assert again.status_code == 200 and again.json()["following"] is True
        assert client.get(f"/api/v1/accounts/{bob.identity}", headers=as_alice).json()["followers_count"] == 1

        both = client.get("/api/v1/accounts/relationships", headers=as_bob,
                          params=[("id[]", str(alice.identity)), ("id[]", "999999"), ("id[]", "nope")])
        assert [(r["id"], r["followed_by"], r["following"]) for r in both.json()] == [
            (str(alice.identity), True, False)]
        assert client.get("/api/v1/accounts/relationships", headers=as_bob).json() == []

        unfollowed = client.post(f"/api/v1/accounts/{bob.identity}/unfollow", headers=as_alice)
        assert unfollowed.status_code == 200 and unfollowed.json()["following"] is False
        assert _relation(client, as_bob, alice.identity)["followed_by"] is False


def test_refusals(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice = token(client, "alice")
        reader = token(client, "alice", "read")
        follows_only = token(client, "alice", "follow")
        for action in ("follow", "unfollow", "block", "unblock", "mute", "unmute", "remove_from_followers"):
            assert client.post(f"/api/v1/accounts/{bob.identity}/{action}").status_code == 401
            assert client.post(f"/api/v1/accounts/{bob.identity}/{action}", headers=reader).status_code == 403
            assert client.post(f"/api/v1/accounts/999999/{action}", headers=as_alice).status_code == 404
            assert client.post(f"/api/v1/accounts/nope/{action}", headers=as_alice).status_code == 404
        for action in ("follow", "block", "mute"):
            myself = client.post(f"/api/v1/accounts/{alice.identity}/{action}", headers=as_alice)
            assert myself.status_code == 422 and "yourself" in myself.json()["error"]
        # The legacy "follow" scope covers follows, blocks and mutes, and nothing else.
        assert client.post(f"/api/v1/accounts/{bob.identity}/mute", headers=follows_only).status_code == 200
        assert client.get("/api/v1/mutes", headers=follows_only).status_code == 200
        assert client.get("/api/v1/accounts/verify_credentials", headers=follows_only).status_code == 403
        for path in ("/api/v1/accounts/relationships", "/api/v1/follow_requests", "/api/v1/blocks", "/api/v1/mutes"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=token(client, "alice", "write")).status_code == 403
        assert client.post(f"/api/v1/follow_requests/{bob.identity}/authorize", headers=reader).status_code == 403
        waiting = client.post(f"/api/v1/follow_requests/{bob.identity}/authorize", headers=as_alice)
        assert waiting.status_code == 404  # bob asked nothing
        assert client.post("/api/v1/follow_requests/999999/reject", headers=as_alice).status_code == 404
        too_many = client.get("/api/v1/accounts/relationships", headers=as_alice,
                              params=[("id[]", str(n)) for n in range(81)])
        assert too_many.status_code == 422


def test_a_locked_account_lets_a_follower_in_to_its_followers_only_posts(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice, as_bob = token(client, "alice"), token(client, "bob")
        assert client.patch("/api/v1/accounts/update_credentials", headers=as_bob,
                            json={"locked": True}).json()["locked"] is True
        secret = served.run(served.site.social.posting.compose(bob, Draft("for friends", visibility="followers")))

        asked = client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_alice).json()
        assert asked["requested"] is True and asked["following"] is False
        assert client.get(f"/api/v1/statuses/{secret.id}", headers=as_alice).status_code == 404
        notes = client.get("/api/v1/notifications", headers=as_bob).json()
        assert [(n["type"], n["account"]["id"]) for n in notes] == [("follow_request", str(alice.identity))]
        waiting = client.get("/api/v1/follow_requests", headers=as_bob)
        assert [a["id"] for a in waiting.json()] == [str(alice.identity)]
        assert _relation(client, as_bob, alice.identity)["requested_by"] is True
        assert client.get("/api/v1/follow_requests", headers=as_alice).json() == []

        let_in = client.post(f"/api/v1/follow_requests/{alice.identity}/authorize", headers=as_bob)
        assert let_in.status_code == 200, let_in.text
        assert let_in.json()["followed_by"] is True and let_in.json()["requested_by"] is False
        assert _relation(client, as_alice, bob.identity)["following"] is True
        seen = client.get(f"/api/v1/statuses/{secret.id}", headers=as_alice)
        assert seen.status_code == 200 and seen.json()["content"] == "<p>for friends</p>"
        assert client.get("/api/v1/follow_requests", headers=as_bob).json() == []

        carol = member(served, "carol")
        as_carol = token(client, "carol")
        assert client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_carol).json()["requested"] is True
        turned_away = client.post(f"/api/v1/follow_requests/{carol.identity}/reject", headers=as_bob)
        assert turned_away.status_code == 200 and turned_away.json()["requested_by"] is False
        refused = _relation(client, as_carol, bob.identity)
        assert refused["requested"] is False and refused["following"] is False
        assert client.get(f"/api/v1/statuses/{secret.id}", headers=as_carol).status_code == 404
        assert client.get("/api/v1/follow_requests", headers=as_bob).json() == []


def test_locking_an_account_keeps_the_followers_it_had(served: Served) -> None:
    alice = account_of(served, "alice")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice, as_bob = token(client, "alice"), token(client, "bob")
        assert client.post(f"/api/v1/accounts/{alice.identity}/follow", headers=as_bob).json()["following"]
        locked = client.patch("/api/v1/accounts/update_credentials", headers=as_alice, json={"locked": True})
        assert locked.json()["locked"] is True and locked.json()["followers_count"] == 1
        assert _relation(client, as_bob, alice.identity)["following"] is True
        assert client.get("/api/v1/follow_requests", headers=as_alice).json() == []
        assert locked.json()["source"]["follow_requests_count"] == 0


def test_removing_a_follower(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice, as_bob = token(client, "alice"), token(client, "bob")
        client.post(f"/api/v1/accounts/{alice.identity}/follow", headers=as_bob)
        removed = client.post(f"/api/v1/accounts/{bob.identity}/remove_from_followers", headers=as_alice)
        assert removed.status_code == 200 and removed.json()["followed_by"] is False
        assert _relation(client, as_bob, alice.identity)["following"] is False
        assert client.get(f"/api/v1/accounts/{alice.identity}/followers").json() == []
        twice = client.post(f"/api/v1/accounts/{bob.identity}/remove_from_followers", headers=as_alice)
        assert twice.status_code == 200 and twice.json()["followed_by"] is False


def test_a_block_ends_follows_and_hides_the_blockers_posts(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice, as_bob = token(client, "alice"), token(client, "bob")
        post = served.run(served.site.social.posting.compose(alice, Draft("hello world")))
        client.post(f"/api/v1/accounts/{alice.identity}/follow", headers=as_bob)
        client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_alice)
        assert client.get(f"/api/v1/statuses/{post.id}", headers=as_bob).status_code == 200

        blocked = client.post(f"/api/v1/accounts/{bob.identity}/block", headers=as_alice).json()
        assert blocked["blocking"] is True and blocked["following"] is False and blocked["followed_by"] is False
        seen_by_bob = _relation(client, as_bob, alice.identity)
        assert seen_by_bob["blocked_by"] is True and seen_by_bob["following"] is False
        assert client.get(f"/api/v1/statuses/{post.id}", headers=as_bob).status_code == 404
        assert client.get(f"/api/v1/accounts/{alice.identity}/statuses", headers=as_bob).json() == []
        assert client.get(f"/api/v1/accounts/{alice.identity}/statuses").json()[0]["id"] == str(post.id)
        refused = client.post(f"/api/v1/accounts/{alice.identity}/follow", headers=as_bob)
        assert refused.status_code == 403
        assert client.post(f"/api/v1/accounts/{bob.identity}/follow", headers=as_alice).status_code == 403

        listed = client.get("/api/v1/blocks", headers=as_alice)
        assert [a["username"] for a in listed.json()] == ["bob"]
        assert client.get("/api/v1/blocks", headers=as_bob).json() == []
        unblocked = client.post(f"/api/v1/accounts/{bob.identity}/unblock", headers=as_alice).json()
        assert unblocked["blocking"] is False and unblocked["following"] is False  # the follows stay ended
        assert client.get(f"/api/v1/statuses/{post.id}", headers=as_bob).status_code == 200
        assert client.get("/api/v1/blocks", headers=as_alice).json() == []


def test_mutes_and_lists_of_people_page_backwards(served: Served) -> None:
    alice = account_of(served, "alice")
    others = [account_of(served, "bob"), *(member(served, name) for name in ("carol", "dave"))]
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_alice = token(client, "alice")
        for other in others:
            muted = client.post(f"/api/v1/accounts/{other.identity}/mute", headers=as_alice).json()
            assert muted["muting"] is True and muted["muting_notifications"] is True
        first = client.get("/api/v1/mutes", headers=as_alice, params={"limit": 2})
        assert [a["id"] for a in first.json()] == [str(o.identity) for o in reversed(others)][:2]
        next_url = first.links["next"]["url"]
        assert "prev" not in first.links
        assert parse_qs(urlsplit(next_url).query)["limit"] == ["2"]
        second = client.get(next_url, headers=as_alice)
        assert [a["id"] for a in second.json()] == [str(others[0].identity)]
        last = client.get(second.links["next"]["url"], headers=as_alice)
        assert last.json() == [] and "link" not in last.headers
        unmuted = client.post(f"/api/v1/accounts/{others[0].identity}/unmute", headers=as_alice).json()
        assert unmuted["muting"] is False
        assert len(client.get("/api/v1/mutes", headers=as_alice).json()) == 2
        assert _relation(client, as_alice, alice.identity)["muting"] is False
