"""An account's statuses, followers and following through the client API: Mastodon's
filters, boosts among the posts, pages that neither overlap nor skip, and only what the
viewer may see."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from weft.accounts import Account
from weft.social import Draft, Status

from .people import account_of, member, token
from .served import Served


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _post(served: Served, account: Account, text: str, **draft: Any) -> Status:
    return served.run(served.site.social.posting.compose(account, Draft(text, **draft)))


def _with_image(served: Served, account: Account, text: str) -> Status:
    uploads = served.site.social.uploads
    upload = served.run(uploads.upload(account, _png(), description="a blue box"))
    assert served.run(uploads.wait(account, upload.id, seconds=30)).state == "ready"
    return _post(served, account, text, media_ids=(upload.id,))


def _texts(found: httpx.Response) -> list[str]:
    assert found.status_code == 200, found.text
    return [item["reblog"]["content"] if item["reblog"] else item["content"] for item in found.json()]


def test_statuses_with_mastodons_filters_and_boosts(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    theirs = _post(served, bob, "bob speaks")
    _post(served, alice, "first")
    _with_image(served, alice, "a picture")
    _post(served, alice, "to bob", reply_to=theirs.id)
    opening = _post(served, alice, "thread 1/2 #Weft")
    _post(served, alice, "thread 2/2", reply_to=opening.id)
    served.run(served.site.social.posting.react(alice, theirs.id, "reblog", on=True))
    path = f"/api/v1/accounts/{alice.identity}/statuses"
    with httpx.Client(base_url=served.url, timeout=30) as client:
        everything = client.get(path)
        assert _texts(everything) == ["<p>bob speaks</p>", "<p>thread 2/2</p>",
                                      '<p>thread 1/2 <a href="' + served.url + '/tags/weft" class="mention hashtag" '
                                      'rel="tag">#<span>Weft</span></a></p>',
                                      "<p>to bob</p>", "<p>a picture</p>", "<p>first</p>"]
        boost = everything.json()[0]
        assert boost["account"]["username"] == "alice" and boost["reblog"]["account"]["username"] == "bob"
        assert boost["id"] != boost["reblog"]["id"] and boost["reblog"]["id"] == str(theirs.id)

        media = client.get(path, params={"only_media": "true"}).json()
        assert [s["content"] for s in media] == ["<p>a picture</p>"]
        assert media[0]["media_attachments"][0]["description"] == "a blue box"
        assert _texts(client.get(path, params={"exclude_replies": "1"})) == [
            "<p>bob speaks</p>", "<p>thread 2/2</p>", _texts(everything)[2], "<p>a picture</p>", "<p>first</p>"]
        assert "<p>bob speaks</p>" not in _texts(client.get(path, params={"exclude_reblogs": "true"}))
        assert len(_texts(client.get(path, params={"tagged": "weft"}))) == 1
        assert client.get(path, params={"tagged": "#WEFT"}).json()[0]["id"] == str(opening.id)
        assert client.get(path, params={"tagged": "nothing"}).json() == []
        assert client.get(path, params={"pinned": "true"}).json() == []
        assert client.get(path, params={"tagged": "#"}).status_code == 422
        assert client.get(path, params={"limit": "many"}).status_code == 422
        assert client.get("/api/v1/accounts/999999/statuses").status_code == 404
        assert client.get(path, headers={"authorization": "Bearer nope"}).status_code == 401
        reader = token(client, "bob", "read:accounts")
        assert client.get(path, headers=reader).status_code == 403


def test_pages_of_statuses_follow_their_links_without_overlap_or_gaps(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    theirs = _post(served, bob, "theirs")
    for n in range(5):
        _post(served, alice, f"post {n}")
        if n == 2:
            served.run(served.site.social.posting.react(alice, theirs.id, "reblog", on=True))
    path = f"/api/v1/accounts/{alice.identity}/statuses"
    with httpx.Client(base_url=served.url, timeout=30) as client:
        whole = [s["id"] for s in client.get(path).json()]
        assert len(whole) == 6
        seen: list[str] = []
        page = client.get(path, params={"limit": 2})
        while page.json():
            seen += [s["id"] for s in page.json()]
            page = client.get(page.links["next"]["url"])
        assert seen == whole
        # Backwards from the oldest, by min_id: the pages just after it, each newest first.
        back: list[str] = []
        page = client.get(path, params={"limit": 2, "min_id": whole[-1]})
        while page.json():
            back = [s["id"] for s in page.json()] + back
            page = client.get(page.links["prev"]["url"])
        assert back == whole[:-1]
        newer = client.get(path, params={"since_id": whole[3]}).json()
        assert [s["id"] for s in newer] == whole[:3]


def test_statuses_show_each_viewer_only_what_they_may_see(served: Served) -> None:
    alice, bob = account_of(served, "alice"), account_of(served, "bob")
    carol, dave = member(served, "carol"), member(served, "dave")
    served.run(served.site.social.following.relate(bob, alice.identity, "follow"))
    for visibility in ("public", "unlisted", "followers"):
        _post(served, alice, visibility, visibility=visibility)
    _post(served, alice, "direct to @carol", visibility="direct")
    daves = _post(served, dave, "dave's own")
    served.run(served.site.social.posting.react(alice, daves.id, "reblog", on=True))
    served.run(served.site.social.following.relate(dave, carol.identity, "block"))
    path = f"/api/v1/accounts/{alice.identity}/statuses"
    with httpx.Client(base_url=served.url, timeout=30) as client:
        boosted = "<p>dave&#x27;s own</p>"
        public = ["<p>unlisted</p>", "<p>public</p>"]
        assert _texts(client.get(path)) == [boosted, *public]
        assert _texts(client.get(path, headers=token(client, "bob"))) == [boosted, "<p>followers</p>", *public]
        # carol is mentioned in the direct post, and dave (whose post alice boosted) blocks her.
        direct = _texts(client.get(path, headers=token(client, "carol")))
        assert len(direct) == 3 and direct[0].startswith("<p>direct to") and direct[1:] == public
        mine = _texts(client.get(path, headers=token(client, "alice")))
        assert len(mine) == 5


def test_followers_and_following_page_backwards(served: Served) -> None:
    alice = account_of(served, "alice")
    fans = [account_of(served, "bob"), *(member(served, name) for name in ("carol", "dave"))]
    following = served.site.social.following
    for fan in fans:
        served.run(following.relate(fan, alice.identity, "follow"))
    served.run(following.relate(alice, fans[0].identity, "follow"))
    with httpx.Client(base_url=served.url, timeout=30) as client:
        first = client.get(f"/api/v1/accounts/{alice.identity}/followers", params={"limit": 2})
        assert [a["username"] for a in first.json()] == ["dave", "carol"]
        assert "prev" not in first.links
        rest = client.get(first.links["next"]["url"])
        assert [a["username"] for a in rest.json()] == ["bob"]
        newer = client.get(f"/api/v1/accounts/{alice.identity}/followers", params={"since_id": fans[0].identity})
        assert [a["username"] for a in newer.json()] == ["dave", "carol"]
        assert [a["username"] for a in client.get(f"/api/v1/accounts/{alice.identity}/following").json()] == ["bob"]
        assert [a["username"] for a in client.get(f"/api/v1/accounts/{fans[1].identity}/following").json()] == [
            "alice"]
        assert client.get("/api/v1/accounts/999999/followers").status_code == 404
        assert client.get("/api/v1/accounts/999999/following").status_code == 404
        # Whoever blocks you shows you neither list.
        served.run(following.relate(alice, fans[2].identity, "block"))
        as_dave = token(client, "dave")
        assert client.get(f"/api/v1/accounts/{alice.identity}/followers", headers=as_dave).json() == []
        assert client.get(f"/api/v1/accounts/{alice.identity}/following", headers=as_dave).json() == []
        assert client.get(f"/api/v1/accounts/{alice.identity}/statuses", headers=as_dave).json() == []
        assert len(client.get(f"/api/v1/accounts/{alice.identity}/followers").json()) == 2
