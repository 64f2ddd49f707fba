"""Fediverse people through the client API, as Mastodon.py reads it: looked up by user@host,
their account and posts as entities (HTML sanitized; media on their server, as this site
keeps none), followed once they accept, mentioned; and found on their servers by a
signed-in person's search, through the site's directory (a real small RemoteDirectory, ``HeldDirectory``)."""

from __future__ import annotations

import time

import httpx

from mastodon import Mastodon, MastodonNotFoundError

from ..social.remote_people_world import (
    BOB,
    HOST,
    Actor,
    HeldDirectory,
    answer_follow,
    hold_actor,
    remote_post,
)
from .people import token
from .served import Served
from .test_mastodon_py_accounts import logged_in

IMAGE = {"url": f"https://files.{HOST}/media/1.png", "preview": f"https://files.{HOST}/media/1s.png",
         "mime": "image/png", "alt": "a cat", "width": 640, "height": 480}
CAROL = Actor(iri="https://pleroma.example/users/carol", handle="carol@pleroma.example", username="carol",
              name="Carol", url="https://pleroma.example/carol")
DAN = Actor(iri="https://friendica.example/profile/dan", handle="dan@friendica.example", username="dan",
            name="Dan", url="https://friendica.example/profile/dan")


def now_ms() -> int:
    return int(time.time() * 1000)


def test_a_remote_person_is_looked_up_followed_once_they_accept_and_mentioned(served: Served) -> None:
    node = served.site.node
    actor = Actor()
    served.run(hold_actor(node.db, node.ingest, actor, ts=now_ms() - 5000))
    served.run(remote_post(node.ingest, actor, 1, ts=now_ms() - 4000, attachments=[IMAGE]))
    alice: Mastodon = logged_in(served, "alice")

    bob = alice.account_lookup(f"@bob@{HOST}")
    assert (bob.acct, bob.username, bob.display_name) == (f"bob@{HOST}", "bob", "Bob Remote")
    assert (bob.url, bob.uri) == (f"https://{HOST}/@bob", BOB)
    # Their avatar is shown as this server keeps it, and this site keeps no remote media: the
    # default, never their server's address (weft.media.remote_cache).
    assert bob.avatar == bob.avatar_static == f"{served.url}/avatars/original/missing.png"
    assert bob.note == "<p>Hi, I am <strong>bob</strong></p>" and bob.fields[0].name == "Site"
    assert bob.statuses_count == 1 and bob.locked is False
    assert alice.account(bob.id).acct == bob.acct
    try:
        alice.account_lookup(f"nobody@{HOST}")   # no directory on this site: only the people held
        raise AssertionError("an unknown remote person was found")
    except MastodonNotFoundError:
        pass

    [post] = alice.account_statuses(bob.id)
    assert "<script>" not in post.content and "alert" not in post.content
    assert post.content.startswith("<p>hello <a href=\"https://x.example/\"")
    assert (post.uri, post.url) == (f"{BOB}/statuses/1", f"https://{HOST}/@bob/1")
    [media] = post.media_attachments
    assert (media.type, media.url, media.remote_url, media.preview_url) == (
        "image", IMAGE["url"], IMAGE["url"], IMAGE["preview"])
    assert media.description == "a cat" and media.meta.original.width == 640
    assert alice.status(post.id).account.acct == f"bob@{HOST}"

    asked = alice.account_follow(bob.id)
    assert asked.requested is True and asked.following is False
    assert [s.account.acct for s in alice.timeline_home()] == []   # not before their Accept
    served.run(answer_follow(node.ingest, actor, served.run(_did(served, "alice")), accept=True, ts=now_ms()))
    relation = alice.account_relationships(bob.id)[0]
    assert relation.following is True and relation.requested is False
    assert [s.id for s in alice.timeline_home()] == [post.id]

    written = alice.status_post(f"hi @bob@{HOST}, welcome")
    assert [m.acct for m in written.mentions] == [f"bob@{HOST}"]
    assert f'href="https://{HOST}/@bob"' in written.content
    assert written.uri.startswith(f"{served.url}/objects/") and written.url.startswith(f"{served.url}/@alice/")


async def _did(served: Served, username: str) -> str:
    account = await served.site.accounts.by_username(username)
    assert account is not None
    return account.did


def test_search_finds_remote_people_on_their_servers_for_a_signed_in_person(served: Served) -> None:
    node = served.site.node
    directory = HeldDirectory(node.db, node.ingest, [CAROL, DAN], now_ms)
    served.site.directory = directory
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice = token(client, "alice")
        query = {"q": "@carol@pleroma.example", "resolve": "true"}
        anonymous = client.get("/api/v2/search", params=query)
        assert anonymous.status_code == 200 and anonymous.json()["accounts"] == []
        unresolved = client.get("/api/v2/search", params={**query, "resolve": "false"}, headers=alice)
        assert unresolved.json()["accounts"] == [] and directory.calls == []

        found = client.get("/api/v2/search", params=query, headers=alice).json()["accounts"]
        assert [a["acct"] for a in found] == ["carol@pleroma.example"] and directory.calls == ["carol@pleroma.example"]
        held = client.get("/api/v2/search", params={"q": "carol@pleroma.example"}).json()["accounts"]
        assert [a["id"] for a in held] == [found[0]["id"]]    # held now: found without resolving

        by_url = client.get("/api/v1/accounts/search", params={"q": DAN.iri, "resolve": "true"}, headers=alice)
        assert [a["acct"] for a in by_url.json()] == ["dan@friendica.example"]
        missing = client.get("/api/v1/accounts/lookup", params={"acct": "eve@nowhere.example"}, headers=alice)
        assert missing.status_code == 404 and directory.calls[-1] == "eve@nowhere.example"
        ours = client.get("/api/v2/search", params={"q": "@alice", "resolve": "true"}, headers=alice)
        assert [a["acct"] for a in ours.json()["accounts"]] == ["alice"]
        assert "alice" not in " ".join(directory.calls)   # our own people are never looked up elsewhere

        written = client.post("/api/v1/statuses", headers=alice, data={
            "status": "hello @frank@gone.example and @carol@pleroma.example"})
        assert written.status_code == 200, written.text
        assert [m["acct"] for m in written.json()["mentions"]] == ["carol@pleroma.example"]
        assert "frank@gone.example" in directory.calls
