"""Statuses through the client API: posting (form and JSON), reading with and without a
token, replies and threads, edits with their history and source, delete and redraft, and
every refusal a client can meet (401, 403, 404, 422)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .served import Served
from .test_accounts import bearer


def post(client: httpx.Client, token: dict[str, str], **values: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/statuses", json=values, headers=token)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def follow(served: Served, follower: str, followed: str) -> None:
    site = served.site
    who = served.run(site.accounts.by_username(follower))
    whom = served.run(site.accounts.by_username(followed))
    served.run(site.social.following.relate(who, whom.identity, "follow"))


def test_a_post_reads_as_mastodon_shapes_it(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        made = client.post("/api/v1/statuses", headers=alice, data={
            "status": "Hello @bob and @nobody <b>, see #Weft https://example.org/a",
            "spoiler_text": "greetings", "visibility": "unlisted", "language": "en"})
        assert made.status_code == 200, made.text
        status = made.json()
        base = served.url
        assert status["id"].isdigit() and status["url"] == f"{base}/@alice/{status['id']}"
        assert status["account"]["username"] == "alice" and status["visibility"] == "unlisted"
        assert status["spoiler_text"] == "greetings" and status["sensitive"] is True
        assert status["language"] == "en" and status["edited_at"] is None
        assert status["content"] == (
            f'<p>Hello <span class="h-card"><a href="{base}/@bob" class="u-url mention">@<span>bob</span></a></span>'
            ' and @nobody &lt;b&gt;, see '
            f'<a href="{base}/tags/weft" class="mention hashtag" rel="tag">#<span>Weft</span></a> '
            '<a href="https://example.org/a" rel="nofollow noopener noreferrer" target="_blank">example.org/a</a></p>')
        bob_id = client.get("/api/v1/accounts/lookup", params={"acct": "bob"}).json()["id"]
        assert status["mentions"] == [{"id": bob_id, "username": "bob", "url": f"{base}/@bob", "acct": "bob"}]
        assert status["tags"] == [{"name": "weft", "url": f"{base}/tags/weft"}]
        assert "text" not in status and status["reblog"] is None and status["poll"] is None
        assert (status["favourited"], status["reblogged"], status["bookmarked"], status["pinned"]) == (
            False, False, False, False)
        assert status["created_at"].endswith("Z") and status["media_attachments"] == []

        anyone = client.get(f"/api/v1/statuses/{status['id']}")
        assert anyone.status_code == 200 and anyone.json()["content"] == status["content"]

        reply = post(client, bob, status="welcome", in_reply_to_id=status["id"])
        assert reply["in_reply_to_id"] == status["id"]
        assert reply["in_reply_to_account_id"] == status["account"]["id"]
        assert [m["username"] for m in reply["mentions"]] == ["alice"]
        answer = post(client, alice, status="thanks", in_reply_to_id=reply["id"])

        context = client.get(f"/api/v1/statuses/{reply['id']}/context").json()
        assert [s["id"] for s in context["ancestors"]] == [status["id"]]
        assert [s["id"] for s in context["descendants"]] == [answer["id"]]
        top = client.get(f"/api/v1/statuses/{status['id']}", headers=alice).json()
        assert top["replies_count"] == 1

        several = client.get("/api/v1/statuses", params=[("id[]", answer["id"]), ("id[]", "999"),
                                                         ("id[]", status["id"])])
        assert [s["id"] for s in several.json()] == [answer["id"], status["id"]]


def test_visibility_names_and_expiry(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        for mastodon in ("public", "unlisted", "private", "direct"):
            assert post(client, alice, status=f"a {mastodon} post", visibility=mastodon)["visibility"] == mastodon
        bad = client.post("/api/v1/statuses", json={"status": "x", "visibility": "followers"}, headers=alice)
        assert bad.status_code == 422 and "visibility" in bad.json()["error"]
        fleeting = post(client, alice, status="gone soon", expires_in=3600)
        assert client.get(f"/api/v1/statuses/{fleeting['id']}").status_code == 200
        too_soon = client.post("/api/v1/statuses", json={"status": "x", "expires_in": 5}, headers=alice)
        assert too_soon.status_code == 422


def test_a_followers_only_post_is_not_found_by_those_it_is_not_for(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        secret = post(client, alice, status="for my followers", visibility="private")
        path = f"/api/v1/statuses/{secret['id']}"
        for headers in ({}, bob):
            for method, suffix in (("GET", ""), ("POST", "/favourite"), ("POST", "/reblog"), ("GET", "/context"),
                                   ("GET", "/history"), ("GET", "/favourited_by"), ("GET", "/reblogged_by"),
                                   ("POST", "/bookmark"), ("GET", "/source")):
                if not headers and method == "POST":
                    continue
                answer = client.request(method, path + suffix, headers=headers)
                expected = 401 if suffix == "/source" and not headers else 404
                assert answer.status_code == expected, (method, suffix, answer.text)
            assert client.get("/api/v1/statuses", params={"id[]": secret["id"]}, headers=headers).json() == []
        reply = client.post("/api/v1/statuses", json={"status": "hi", "in_reply_to_id": secret["id"]}, headers=bob)
        assert reply.status_code == 404

        follow(served, "bob", "alice")
        assert client.get(path, headers=bob).json()["visibility"] == "private"
        refused = client.post(path + "/reblog", headers=bob)
        assert refused.status_code == 403  # seen, but a followers-only post is not boosted
        assert client.post(path + "/favourite", headers=bob).json()["favourited"] is True


def test_edit_history_and_source(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        first = post(client, alice, status="first #draft", spoiler_text="cw")
        path = f"/api/v1/statuses/{first['id']}"

        edited = client.put(path, json={"status": "second take", "spoiler_text": ""}, headers=alice)
        assert edited.status_code == 200, edited.text
        assert edited.json()["content"] == "<p>second take</p>" and edited.json()["edited_at"] is not None
        assert edited.json()["spoiler_text"] == "" and edited.json()["id"] == first["id"]
        third = client.put(path, data={"status": "third", "spoiler_text": "again", "sensitive": "true"},
                           headers=alice).json()
        assert third["spoiler_text"] == "again" and third["sensitive"] is True

        history = client.get(path + "/history").json()
        assert [(v["content"], v["spoiler_text"]) for v in history] == [
            (f'<p>first <a href="{served.url}/tags/draft" class="mention hashtag" rel="tag">#<span>draft</span>'
             '</a></p>', "cw"), ("<p>second take</p>", ""), ("<p>third</p>", "again")]
        assert all(v["account"]["username"] == "alice" and v["created_at"].endswith("Z") for v in history)
        assert client.get(path + "/source", headers=alice).json() == {
            "id": first["id"], "text": "third", "spoiler_text": "again"}

        assert client.put(path, json={"status": "mine now"}, headers=bob).status_code == 403
        assert client.put(path, json={"status": "x", "media_ids": ["12"]}, headers=alice).status_code == 422
        assert client.put(path, json={"status": "x", "media_ids": []}, headers=alice).status_code == 200
        assert client.put(path, json={}, headers=alice).status_code == 422
        assert client.put(path, json={"status": "x", "language": "de"}, headers=alice).status_code == 422
        assert client.put("/api/v1/statuses/12345", json={"status": "x"}, headers=alice).status_code == 404


def test_delete_answers_the_text_for_a_redraft(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        status = post(client, alice, status="oops #typo", spoiler_text="cw")
        path = f"/api/v1/statuses/{status['id']}"
        assert client.delete(path, headers=bob).status_code == 403
        gone = client.delete(path, headers=alice)
        assert gone.status_code == 200, gone.text
        assert gone.json()["text"] == "oops #typo" and gone.json()["spoiler_text"] == "cw"
        assert gone.json()["id"] == status["id"]
        assert client.get(path, headers=alice).status_code == 404
        assert client.delete(path, headers=alice).status_code == 404
        assert client.get("/api/v1/timelines/tag/typo").json() == []


def test_refusals(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = bearer(client, "alice")
        reader = bearer(client, "alice", scope="read")
        status = post(client, alice, status="hello")

        nobody = client.post("/api/v1/statuses", json={"status": "x"})
        assert nobody.status_code == 401 and nobody.json() == {"error": "The access token is invalid"}
        wrong = client.post("/api/v1/statuses", json={"status": "x"}, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        out_of_scope = client.post("/api/v1/statuses", json={"status": "x"}, headers=reader)
        assert out_of_scope.status_code == 403
        assert out_of_scope.json() == {"error": "This action is outside the authorized scopes"}
        assert client.delete(f"/api/v1/statuses/{status['id']}", headers=reader).status_code == 403
        assert client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=reader).status_code == 403
        assert client.get(f"/api/v1/statuses/{status['id']}", headers=reader).status_code == 200
        assert client.get(f"/api/v1/statuses/{status['id']}",
                          headers={"authorization": "Bearer nope"}).status_code == 401

        for values, words in (
                ({"status": ""}, "text or an image"),
                ({"status": "x" * 5001}, "5000"),
                ({"status": "x", "scheduled_at": "2030-01-01T00:00:00Z"}, "scheduled"),
                ({"status": "x", "poll": {"options": ["a", "b"], "expires_in": 600}}, "poll"),
                ({"status": "x", "media_ids": ["not a number"]}, "media_ids"),
                ({"status": "x", "in_reply_to_id": "abc"}, "in_reply_to_id"),
                ({"status": "x", "sensitive": "maybe"}, "sensitive")):
            refused = client.post("/api/v1/statuses", json=values, headers=alice)
            assert refused.status_code == 422, (values, refused.text)
            assert words in refused.json()["error"]
        unknown_media = client.post("/api/v1/statuses", json={"status": "x", "media_ids": ["77"]}, headers=alice)
        assert unknown_media.status_code == 404
        broken = client.post("/api/v1/statuses", content=b"{not json", headers={
            **alice, "content-type": "application/json"})
        assert broken.status_code == 422
        for missing in ("12345", "nope", "9" * 30):
            assert client.get(f"/api/v1/statuses/{missing}").status_code == 404


@pytest.mark.parametrize("same_key", [True, False])
def test_an_idempotency_key_makes_a_retry_return_the_first_post(served: Served, same_key: bool) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        ids = [client.post("/api/v1/statuses", json={"status": "once"},
                           headers={**alice, "idempotency-key": "k1" if same_key else f"k{n}"}).json()["id"]
               for n in range(2)]
        assert (ids[0] == ids[1]) is same_key
        # The key is the account's own: another account's post with it is its own post.
        other = client.post("/api/v1/statuses", json={"status": "once"}, headers={**bob, "idempotency-key": "k1"})
        assert other.json()["id"] not in ids and other.json()["account"]["username"] == "bob"
