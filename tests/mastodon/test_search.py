"""Search, trends and hashtags through the client API: posts found only by whom may see
them (by words or by their link), people and hashtags for anyone, trends of public posts,
and Mastodon's refusals."""

from __future__ import annotations

import time

import httpx

from weft.social import Draft

from .people import account_of, member, token
from .served import Served

VIEWERS = (None, "alice", "bob", "carol", "dave")
# Who finds each of alice's posts: bob follows her, carol is mentioned in the direct one,
# dave is nobody to her, and a search without a token finds no statuses at all.
FINDS = {"public": {"alice", "bob", "carol", "dave"}, "unlisted": {"alice", "bob", "carol", "dave"},
         "followers": {"alice", "bob"}, "direct": {"alice", "carol"}}


def test_posts_are_found_only_by_whom_may_see_them(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    member(served, "carol")
    member(served, "dave")
    social = served.site.social
    served.run(social.following.relate(bob, alice.identity, "follow"))
    posts = {visibility: served.run(social.posting.compose(alice, Draft(
        f"walrus {visibility}" + (" @carol" if visibility == "direct" else ""), visibility=visibility)))
             for visibility in FINDS}
    gone = served.run(social.posting.compose(alice, Draft("walrus deleted")))
    served.run(social.posting.delete(alice, gone.id))
    with httpx.Client(base_url=served.url, timeout=30) as client:
        headers = {name: token(client, name) for name in VIEWERS if name}
        for viewer in VIEWERS:
            auth = headers[viewer] if viewer else {}
            expected = {str(posts[v].id) for v, finders in FINDS.items() if viewer in finders}
            found = client.get("/api/v2/search", params={"q": "walrus", "type": "statuses"}, headers=auth)
            assert found.status_code == 200, found.text
            assert {s["id"] for s in found.json()["statuses"]} == expected, viewer
            for visibility, post in posts.items():
                link = f"{served.url}/@alice/{post.id}"
                by_link = client.get("/api/v2/search", params={"q": link, "resolve": "true"}, headers=auth).json()
                assert [s["id"] for s in by_link["statuses"]] == ([str(post.id)] if viewer in FINDS[visibility]
                                                                   else []), (viewer, visibility)
        everything = client.get("/api/v2/search", params={"q": "walrus"}, headers=headers["bob"]).json()
        assert set(everything) == {"accounts", "statuses", "hashtags"} and len(everything["statuses"]) == 3
        assert everything["statuses"][0]["content"].startswith("<p>walrus followers")  # newest first
        one = client.get("/api/v2/search", params={"q": "walrus", "type": "statuses", "limit": 1, "offset": 1},
                         headers=headers["bob"]).json()
        assert [s["id"] for s in one["statuses"]] == [str(posts["unlisted"].id)]
        theirs = client.get("/api/v2/search", headers=headers["bob"],
                            params={"q": "walrus", "type": "statuses", "account_id": str(bob.identity)})
        assert theirs.json()["statuses"] == []


def test_people_are_found_by_name_and_among_whom_one_follows(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    member(served, "alicia")
    served.run(served.site.social.following.relate(bob, alice.identity, "follow"))
    with httpx.Client(base_url=served.url, timeout=30) as client:
        anyone = client.get("/api/v2/search", params={"q": "ali", "type": "accounts"}).json()
        assert [a["username"] for a in anyone["accounts"]] == ["alice", "alicia"]
        assert anyone["statuses"] == [] and anyone["hashtags"] == []
        for query in ("@alice", f"alice@{served.site.host}", f"{served.url}/@alice", "Alice"):
            exact = client.get("/api/v2/search", params={"q": query, "type": "accounts"}).json()["accounts"]
            assert [a["username"] for a in exact][:1] == ["alice"], query
        elsewhere = client.get("/api/v2/search", params={"q": "alice@elsewhere.example", "resolve": "true"})
        assert elsewhere.status_code == 200 and elsewhere.json()["accounts"] == []

        as_bob = token(client, "bob")
        followed = client.get("/api/v2/search", params={"q": "ali", "following": "true"}, headers=as_bob)
        assert [a["username"] for a in followed.json()["accounts"]] == ["alice"]
        v1 = client.get("/api/v1/accounts/search", params={"q": "ali", "limit": 1}, headers=as_bob)
        assert [a["username"] for a in v1.json()] == ["alice"]
        second = client.get(v1.links["next"]["url"], headers=as_bob)
        assert [a["username"] for a in second.json()] == ["alicia"]
        assert [a["username"] for a in client.get(second.links["prev"]["url"], headers=as_bob).json()] == ["alice"]
        last = client.get(second.links["next"]["url"], headers=as_bob)
        assert last.json() == [] and "next" not in last.links
        only_followed = client.get("/api/v1/accounts/search", params={"q": "ali", "following": "true"},
                                   headers=as_bob)
        assert [a["username"] for a in only_followed.json()] == ["alice"]
        assert client.get("/api/v1/accounts/search", params={"q": "ali"}).status_code == 401
        writer = token(client, "bob", "write")
        assert client.get("/api/v1/accounts/search", params={"q": "ali"}, headers=writer).status_code == 403


def test_hashtags_trends_and_one_tag(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    posting = served.site.social.posting
    for author, text in ((alice, "#Zoo day"), (bob, "at the #zoo"), (alice, "#zoology"), (bob, "#quiet")):
        served.run(posting.compose(author, Draft(text)))
    served.run(posting.compose(alice, Draft("#hidden", visibility="followers")))
    with httpx.Client(base_url=served.url, timeout=30) as client:
        found = client.get("/api/v2/search", params={"q": "#zo", "type": "hashtags"}).json()["hashtags"]
        assert [t["name"] for t in found] == ["zoo", "zoology"] and "following" not in found[0]
        assert found[0]["url"] == f"{served.url}/tags/zoo"
        today = str(int(time.time()) // 86400 * 86400)
        assert found[0]["history"][0] == {"day": today, "uses": "2", "accounts": "2"}
        assert len(found[0]["history"]) == 7 and found[0]["history"][1]["uses"] == "0"
        as_bob = token(client, "bob")
        signed_in = client.get("/api/v2/search", params={"q": "zoo", "type": "hashtags"}, headers=as_bob).json()
        assert signed_in["hashtags"][0]["following"] is False
        assert client.get("/api/v2/search", params={"q": "hidden", "type": "hashtags"}).json()["hashtags"] == []

        trends = client.get("/api/v1/trends/tags")
        assert [t["name"] for t in trends.json()] == ["zoo", "quiet", "zoology"]
        assert client.get("/api/v1/trends").json() == trends.json()
        first = client.get("/api/v1/trends/tags", params={"limit": 1})
        assert [t["name"] for t in first.json()] == ["zoo"]
        assert [t["name"] for t in client.get(first.links["next"]["url"]).json()] == ["quiet"]

        zoo = client.get("/api/v1/tags/Zoo")
        assert zoo.status_code == 200 and zoo.json()["name"] == "zoo" and "following" not in zoo.json()
        assert client.get("/api/v1/tags/zoo", headers=as_bob).json()["following"] is False
        unused = client.get("/api/v1/tags/unused").json()
        assert {day["uses"] for day in unused["history"]} == {"0"}
        assert client.get("/api/v1/tags/no%20tag").status_code == 404


def test_refusals(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        as_bob = token(client, "bob")
        cases = [({"q": "x", "type": "groups"}, as_bob, 422), ({"q": "x", "limit": "many"}, as_bob, 422),
                 ({"q": "x" * 1001}, as_bob, 422), ({"q": "x", "offset": "2"}, {}, 401),
                 ({"q": "x"}, {"authorization": "Bearer nope"}, 401),
                 ({"q": "x"}, token(client, "bob", "write"), 403)]
        for params, headers, status in cases:
            refused = client.get("/api/v2/search", params=params, headers=headers)
            assert refused.status_code == status, (params, refused.text)
            assert isinstance(refused.json()["error"], str)
        assert client.get("/api/v2/search", params={"q": "   "}, headers=as_bob).json() == {
            "accounts": [], "statuses": [], "hashtags": []}
        assert client.get("/api/v1/trends/tags", params={"limit": "0"}).status_code == 422
