"""Our actors, objects and collections as a remote server fetches them, from a node served on
loopback (one per backend for the module): content negotiation, keys, paging, visibility,
what is gone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import orjson
import pytest

from weft.accounts import Account
from weft.config import NodeConfig
from weft.core.foreign import make_foreign
from weft.core.ids import entry_id_text
from weft.federation.activitystreams import parse_object
from weft.federation.as2_build import CONTEXT
from weft.federation.httpsig import parse, sign, verify
from weft.federation.remote_objects import remote_post
from weft.federation.urls import instance_key_id, key_id
from weft.ingest import ForeignOffer
from weft.social import Draft, Status
from weft.store.database import Database

from ..conftest import SessionLoop
from ..web.site_server import RunningSite, serving

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "cd" * 32, "WEFT_FEDERATION_ALLOW_PRIVATE": "1",
       "WEFT_FEDERATION_ALLOW_HTTP": "1"}
AS2 = {"accept": "application/activity+json"}
LD = {"accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
HTML = {"accept": "text/html,application/xhtml+xml"}
ROB = "https://remote.example/users/rob"
STRANGER = "did:weft:" + "b" * 48
POSTS = 25


@dataclass
class Served:
    running: RunningSite
    people: dict[str, Account] = field(default_factory=dict)
    posts: dict[str, Status] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.running.url

    def actor(self, name: str) -> str:
        return f"{self.url}/users/{name}"

    def object(self, name: str) -> str:
        return f"{self.url}/objects/{self.posts[name].row.entry_id}"

    async def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.get(url, headers=headers or AS2)

    async def signed_get(self, url: str, signer: str, *, as_key: str | None = None) -> httpx.Response:
        """GET ``url`` signed with ``signer``'s actor key (claiming ``as_key``'s id, to forge)."""
        federation = self.running.site.federation
        assert federation is not None
        account = self.people[signer]
        key = await federation.keys.key(account.identity)
        added = sign(method="GET", url=url, headers=AS2, body=None, private_key=key.private,
                     key_id=key_id(self.actor(as_key or signer)), now=self.running.node.clock())
        return await self.get(url, {**AS2, **added})


async def _populate(running: RunningSite) -> Served:
    site, node = running.site, running.node
    served = Served(running)
    for name in ("alice", "bob", "carol"):
        served.people[name] = await site.accounts.sign_up(name, "a long password", by_admin=True)
    alice, bob = served.people["alice"], served.people["bob"]
    for number in range(POSTS):
        served.posts[f"p{number}"] = await site.social.posting.compose(alice, Draft(f"post {number}"))
    served.posts["private"] = await site.social.posting.compose(alice, Draft("for followers", visibility="followers"))
    served.posts["gone"] = await site.social.posting.compose(alice, Draft("soon deleted"))
    await site.social.posting.delete(alice, served.posts["gone"].id)
    served.posts["bobs"] = await site.social.posting.compose(bob, Draft("boost me"))
    served.posts["boost"] = await site.social.posting.react(alice, served.posts["bobs"].id, "reblog", on=True)
    await site.social.following.relate(bob, alice.identity, "follow")
    entry, data = make_foreign({"type": "follow", "target": alice.did}, author=ROB,
                               origin="https://remote.example/follows/1", via="signature", ts=node.clock())
    await node.ingest.foreign([ForeignOffer(entry.raw, data)])
    author = site.accounts.author(await site.accounts.account(alice.id))
    for target in (ROB, STRANGER, bob.did):
        await node.publish({"type": "follow", "target": target}, author=author)
    entry, data = make_foreign({"type": "follow_accept", "target": alice.did}, author=ROB,
                               origin="https://remote.example/accepts/1", via="signature", ts=node.clock())
    await node.ingest.foreign([ForeignOffer(entry.raw, data)])   # rob lets alice in
    await node.publish({"type": "profile", "name": "Alice", "bio": "hello #there"}, author=author)
    bot = site.accounts.author(await site.accounts.account(served.people["carol"].id))
    await node.publish({"type": "profile", "name": "Beep", "bot": True}, author=bot)
    return served


@contextlib.contextmanager
def _served(runner: SessionLoop, config: NodeConfig, environ: dict[str, str]) -> Iterator[Served]:
    stack = contextlib.AsyncExitStack()
    running = runner.run(stack.enter_async_context(serving(config, environ=environ)))
    try:
        yield runner.run(_populate(running))
    finally:
        runner.run(stack.aclose())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, runner: SessionLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory: Path = tmp_path_factory.mktemp("documents") / "n"
    if request.param == "sqlite":
        with _served(runner, NodeConfig.resolve(directory, None), ENV) as node:
            yield node
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid4().hex[:12]}"
    try:
        with _served(runner, NodeConfig(directory, f"{url}?schema={schema}"), ENV) as node:
            yield node
    finally:
        async def drop() -> None:
            db = await Database.open(url, schema=schema)
            try:
                await db.drop_schema()
            finally:
                await db.close()
        runner.run(drop())


async def test_the_actor_is_served_to_activitypub_and_browsers_are_sent_to_the_profile(served: Served) -> None:
    for accept in (AS2, LD):
        response = await served.get(served.actor("alice"), accept)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/activity+json"
        actor = response.json()
        assert actor["id"] == served.actor("alice") and actor["type"] == "Person"
        assert actor["preferredUsername"] == "alice" and actor["name"] == "Alice"
        assert f"{served.url}/tags/there" in actor["summary"] and actor["url"] == f"{served.url}/@alice"
        assert actor["inbox"] == served.actor("alice") + "/inbox" and actor["endpoints"] == {"sharedInbox": f"{served.url}/inbox"}
        assert actor["followers"] == served.actor("alice") + "/followers"
        assert actor["featured"] == served.actor("alice") + "/collections/featured"
        assert actor["publicKey"]["id"] == key_id(served.actor("alice")) and actor["publicKey"]["owner"] == actor["id"]
        assert actor["weft:did"] == served.people["alice"].did and actor["alsoKnownAs"] == []
        assert actor["manuallyApprovesFollowers"] is False
        assert [key.id for key in parse_object(response.content).public_keys] == [key_id(served.actor("alice"))]
    browser = await served.get(served.actor("alice"), HTML)
    assert browser.status_code == 302 and browser.headers["location"] == "/@alice"
    assert (await served.get(served.actor("carol"))).json()["type"] == "Service"
    assert (await served.get(served.actor("nobody"))).status_code == 404
    assert (await served.get(served.actor("nobody"), HTML)).status_code == 404
    assert (await served.get(served.url + "/users/alice.rss", HTML)).status_code == 200   # the feed is still the feed's


async def test_the_key_in_the_actor_verifies_what_the_account_signs(served: Served) -> None:
    pem = (await served.get(served.actor("bob"))).json()["publicKey"]["publicKeyPem"]
    federation = served.running.site.federation
    assert federation is not None
    key = await federation.keys.key(served.people["bob"].identity)
    now = served.running.node.clock()
    headers = sign(method="POST", url="https://else.example/inbox", headers={}, body=b"{}", private_key=key.private,
                   key_id=key_id(served.actor("bob")), now=now)
    verify(parse(method="POST", url="https://else.example/inbox", headers=headers, body=b"{}", now=now), pem)


async def test_webfinger_leads_to_a_document_whose_id_is_where_it_was_found(served: Served) -> None:
    host = served.url.removeprefix("http://")
    finger = await served.get(f"{served.url}/.well-known/webfinger?resource=acct:alice@{host}", {})
    self_link = next(link["href"] for link in finger.json()["links"] if link["rel"] == "self")
    assert (await served.get(self_link)).json()["id"] == self_link


async def test_the_instance_actor_is_a_service_named_after_the_host(served: Served) -> None:
    response = await served.get(served.url + "/actor")
    actor = response.json()
    assert response.status_code == 200 and actor["type"] == "Service" and actor["id"] == served.url + "/actor"
    assert actor["preferredUsername"] == served.url.removeprefix("http://")
    assert actor["publicKey"]["id"] == instance_key_id(served.url) and actor["inbox"] == served.url + "/inbox"
    assert (await served.get(actor["outbox"])).json()["totalItems"] == 0


async def test_the_outbox_pages_through_public_posts_and_boosts_newest_first(served: Served) -> None:
    outbox = (await served.get(served.actor("alice") + "/outbox")).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == POSTS + 1
    seen: list[dict[str, Any]] = []
    page_url: str | None = outbox["first"]
    while page_url is not None:
        page = (await served.get(page_url)).json()
        assert page["type"] == "OrderedCollectionPage" and page["partOf"] == outbox["id"]
        seen += page["orderedItems"]
        page_url = page.get("next")
    assert len(seen) == POSTS + 1
    assert seen[0]["type"] == "Announce" and seen[0]["object"] == served.object("bobs")
    texts = [remote_post(parse_object(orjson.dumps({"@context": CONTEXT, **item["object"]}))).text
             for item in seen[1:]]
    assert texts == [f"post {n}" for n in reversed(range(POSTS))]   # no followers-only, no deleted post


async def test_followers_and_following_list_actor_iris(served: Served) -> None:
    followers = (await served.get(served.actor("alice") + "/followers")).json()
    assert followers["totalItems"] == 2
    page = (await served.get(followers["first"])).json()
    assert sorted(page["orderedItems"]) == sorted([served.actor("bob"), ROB])
    following = (await served.get(served.actor("alice") + "/following")).json()
    assert following["totalItems"] == 3   # counted: a weft identity hosted elsewhere too
    listed = (await served.get(following["first"])).json()["orderedItems"]
    assert sorted(listed) == sorted([served.actor("bob"), ROB])   # listed: only those with an actor
    featured = (await served.get(served.actor("alice") + "/collections/featured")).json()
    assert featured["totalItems"] == 0 and featured["orderedItems"] == []
    assert (await served.get(served.actor("alice") + "/liked")).status_code == 404


async def test_posts_are_served_as_notes_and_their_create_and_browsers_go_to_the_page(served: Served) -> None:
    url = served.object("p3")
    note = (await served.get(url)).json()
    assert note["id"] == url and note["type"] == "Note" and note["attributedTo"] == served.actor("alice")
    create = (await served.get(url + "/activity")).json()
    assert create["type"] == "Create" and create["id"] == url + "/activity" and create["object"]["id"] == url
    page = await served.get(url, HTML)
    assert page.status_code == 302 and page.headers["location"] == f"/@alice/{served.posts['p3'].id}"
    boost = await served.get(f"{served.url}/objects/{served.posts['boost'].boost.entry_id}")  # type: ignore[union-attr]
    assert boost.json()["type"] == "Announce"


async def test_followers_only_posts_are_served_only_to_signed_gets_of_those_who_may_see_them(served: Served) -> None:
    url = served.object("private")
    assert (await served.get(url)).status_code == 404
    assert (await served.signed_get(url, "bob")).status_code == 200   # bob follows alice
    assert (await served.signed_get(url, "carol")).status_code == 404
    assert (await served.signed_get(url, "carol", as_key="bob")).status_code == 404   # forged: anonymous


async def test_gone_and_unknown_objects(served: Served) -> None:
    gone = await served.get(served.object("gone"))
    assert gone.status_code == 410 and gone.json() == {**gone.json(), "type": "Tombstone", "id": served.object("gone")}
    unknown = entry_id_text(bytes(32))
    assert (await served.get(f"{served.url}/objects/{unknown}")).status_code == 404
    assert (await served.get(f"{served.url}/objects/not-an-id")).status_code == 404
    assert (await served.get(served.object("bobs") + "/activity")).status_code == 200


def test_authorized_fetch_serves_signed_requests_only(runner: SessionLoop, make_config: Any) -> None:
    with _served(runner, make_config("af"), {**ENV, "WEFT_AUTHORIZED_FETCH": "1"}) as node:
        runner.run(_only_signed(node))


async def _only_signed(node: Served) -> None:
    assert (await node.get(node.actor("alice"))).status_code == 401
    assert (await node.signed_get(node.actor("alice"), "bob")).status_code == 200
    assert (await node.signed_get(node.actor("alice"), "carol", as_key="bob")).status_code == 401
    assert (await node.get(node.actor("alice") + "/outbox")).status_code == 401
    assert (await node.get(node.object("p1"))).status_code == 401
    assert (await node.signed_get(node.object("p1"), "carol")).status_code == 200
    assert (await node.get(node.url + "/actor")).status_code == 200   # always, as Mastodon
    assert (await node.get(node.actor("alice"), HTML)).status_code == 302
