"""Every capture of real Fediverse traffic (../shared/testdata/fediverse-captures) through the
inbound mapping, as fetched from its origin (``via="fetch"``, no signatures): each becomes
the entries it means. The activities that name people or posts of the capturing servers
(a Follow of their user, a Like of their post) are pointed at ours, so that they concern
someone here; nothing else of them is changed.

The captures' hosts do not exist: the node's client is given a resolver that knows no
address, so that no test ever reaches a real server, and the captures' actors are stored
as if fetched (RemoteActors.remember).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import select

from weft.core.ids import entry_id_text, parse_entry_id
from weft.federation.activitystreams import parse_object
from weft.federation.addresses import IPAddress
from weft.federation.fetching import FetchClient
from weft.federation.inbound import Received
from weft.federation.inbound_context import Turn
from weft.federation.inbound_threads import post_entry
from weft.federation.service import Federation
from weft.federation.urls import actor_url, object_url
from weft.node import Node
from weft.site import Site
from weft.social import Draft
from weft.store.schema import entries, identities, posts

from ..shared_testdata import SHARED_TESTDATA

CAPTURES = SHARED_TESTDATA / "fediverse-captures"
BASE = "https://social.test"
ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "cd" * 32}


async def _no_addresses(host: str, port: int) -> Sequence[IPAddress]:
    return []


def _capture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads((CAPTURES / name).read_bytes())
    return document


def _actor_document(iri: str) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Person",
            "preferredUsername": iri.rstrip("/").rsplit("/", 1)[-1], "name": "From a capture",
            "inbox": f"{iri}/inbox", "followers": f"{iri}/followers"}


class Captures:
    def __init__(self, site: Site, federation: Federation) -> None:
        self.site, self.federation = site, federation

    async def receive(self, document: dict[str, Any]) -> Received:
        actor = document["actor"]
        if await self.federation.actors.held(actor) is None:
            await self.federation.actors.remember(parse_object(_actor_document(actor)), _actor_document(actor))
        return await self.federation.inbound.receive(parse_object(document), via="fetch")

    async def contents(self, author: str) -> list[dict[str, Any]]:
        async with self.site.node.db.read() as conn:
            rows = await conn.execute(select(entries.c.content).join(identities, identities.c.id == entries.c.author)
                                      .where(identities.c.did == author).order_by(entries.c.id))
            return [orjson.loads(content) for (content,) in rows.all() if content is not None]

    async def deleted(self, entry_id: str) -> bool:
        async with self.site.node.db.read() as conn:
            return bool((await conn.execute(select(posts.c.deleted).join(entries, entries.c.id == posts.c.entry)
                                            .where(entries.c.entry_id == parse_entry_id(entry_id)))).scalar_one())


async def test_every_capture_becomes_the_entries_it_means(any_config) -> None:
    assert sorted(path.name for path in CAPTURES.glob("*.json")) == sorted(EXPECTED), "a capture without a case"
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, BASE, environ=ENV)
        federation = site.federation = Federation.for_site(site, ENV)
        # Tests name the resolver (FetchClient's own parameter): these hosts must never be looked up.
        federation._client = FetchClient(federation.settings.fetch, resolver=_no_addresses)
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        ours = await site.social.posting.compose(alice, Draft("something to like"))
        captures = Captures(site, federation)
        try:
            for name, check in EXPECTED.items():
                await check(captures, name, alice.did, object_url(BASE, parse_entry_id(ours.row.entry_id)))
        finally:
            await site.social.close()
            await federation.close()


# -- one case per capture: (captures, file name, alice's did, alice's post URL) ------------------

Check = Callable[[Captures, str, str, str], Awaitable[None]]


async def _create_then_update(c: Captures, name: str, alice: str, post: str) -> None:
    await c.receive(_capture(name))
    await c.receive(_capture("mastodon_flow_1_update_note.json"))
    [created, edit] = [x for x in await c.contents("https://mastodon/users/john") if x["type"] in ("post", "edit")]
    assert created["text"] == "Creating Test Data!!! :)" and created["visibility"] == "public"
    assert created["url"] == "https://mastodon/@john/9876" and created["lang"] == "en"
    assert edit["type"] == "edit" and edit["text"].endswith("By updating it 🆕")
    twice = await c.receive(_capture(name))
    assert twice.note == "held already"


async def _update_seen_with_its_create(c: Captures, name: str, alice: str, post: str) -> None:
    assert [x["type"] for x in await c.contents("https://mastodon/users/john")] == ["profile", "post", "edit"]


def _post_then_deleted(create: str, delete: str, author: str) -> Check:
    async def check(c: Captures, name: str, alice: str, post: str) -> None:
        if name == delete:
            return   # received with its Create
        await c.receive(_capture(create))
        [made] = [x for x in await c.contents(author) if x["type"] == "post"]
        assert made["text"]
        await c.receive(_capture(delete))
        async with c.site.node.db.read() as conn:
            [(entry_id,)] = (await conn.execute(
                select(entries.c.entry_id).join(posts, posts.c.entry == entries.c.id)
                .join(identities, identities.c.id == posts.c.author).where(identities.c.did == author))).all()
        assert await c.deleted(entry_id_text(bytes(entry_id)))
    return check


async def _buffalo(c: Captures, name: str, alice: str, post: str) -> None:
    await c.receive(_capture(name))
    [made] = [x for x in await c.contents("https://my_domain/activitypub/name") if x["type"] == "post"]
    assert made["text"] == "I'm literally creating test data." and made["visibility"] == "public"


async def _boost_then_undone(c: Captures, name: str, alice: str, post: str) -> None:
    if name.endswith("_undo.json"):
        return
    announce = _capture(name)
    unheld = await c.receive(announce)   # a post of a server that does not exist: nothing
    assert unheld.outcomes == [] and unheld.note
    announce["id"] += "-of-ours"
    announce["object"] = post
    assert [o.status for o in (await c.receive(announce)).outcomes] == ["stored"]
    assert (await c.contents(announce["actor"]))[-1] == {"type": "boost", "target": post.rsplit("/")[-1]}
    undo = _capture("mastodon_announce_1_undo.json")
    undo["object"]["id"], undo["object"]["object"] = announce["id"], post
    await c.receive(undo)
    kinds = [x["type"] for x in await c.contents(announce["actor"])]
    assert kinds[-1] == "delete" and "boost" not in kinds   # the undone boost's content is gone


async def _like_then_undone(c: Captures, name: str, alice: str, post: str) -> None:
    if name.endswith("_undo.json"):
        return
    like = _capture(name)
    like["object"] = post
    await c.receive(like)
    assert (await c.contents(like["actor"]))[-1] == {"type": "like", "target": post.rsplit("/")[-1]}
    undo = _capture("mastodon_like_1_undo.json")
    undo["object"]["object"] = post
    await c.receive(undo)
    kinds = [x["type"] for x in await c.contents(like["actor"])]
    assert kinds[-1] == "delete" and "like" not in kinds   # the undone like's content is gone


async def _follow(c: Captures, name: str, alice: str, post: str) -> None:
    follow = _capture(name)
    follow["object"] = actor_url(BASE, "alice")
    received = await c.receive(follow)
    assert [o.status for o in received.outcomes] == ["stored"]
    assert {"type": "follow", "target": alice} in await c.contents(follow["actor"])
    assert {"type": "follow_accept", "target": follow["actor"]} in await c.contents(alice)


async def _actor_deleted(c: Captures, name: str, alice: str, post: str) -> None:
    delete = _capture(name)
    gone = delete["actor"]
    await c.federation.actors.remember(parse_object(_actor_document(gone)), _actor_document(gone))
    note = {"id": f"{gone}/statuses/1", "type": "Note", "attributedTo": gone, "content": "<p>bye</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    create = {"id": f"{gone}/statuses/1/activity", "type": "Create", "actor": gone, "object": note}
    await c.receive(create)
    received = await c.receive(delete)
    assert received.note == "the actor was deleted" and [o.status for o in received.outcomes] == ["stored"]
    assert await c.federation.actors.held(gone) is None
    assert [x["type"] for x in await c.contents(gone)][-1] == "delete"


async def _video(c: Captures, name: str, alice: str, post: str) -> None:
    video = _capture(name)
    received = await c.receive({**video, "actor": "https://peertube/accounts/ddevault"})
    assert received.note and "not handled" in received.note   # an object, not an activity
    author = await c.federation.actors.held("https://peertube/accounts/ddevault")
    assert author is not None
    await post_entry(Turn(c.federation, author, "fetch"), parse_object(video))
    [made] = [x for x in await c.contents(author.iri) if x["type"] == "post"]
    assert made["tags"] == ["fosdem", "hare", "kernels"] and "some title" in made["text"]
    assert made["url"] == "https://peertube/videos/watch/some3456-uuid"
    assert made["attachments"][0]["url"].endswith(".jpg") and made["attachments"][0]["width"] == 850


_FLOW_2 = _post_then_deleted("mastodon_flow_2_create_note.json", "mastodon_flow_2_delete_note.json",
                             "https://mastodon/users/remote-user")
_COW = _post_then_deleted("munching_cow_create_note_1.json", "munching_cow_delete_1.json",
                          "https://my_domain/activitypub/munchingcow")

EXPECTED: dict[str, Check] = {
    "buffalo_create_note_1.json": _buffalo,
    "mastodon_announce_1.json": _boost_then_undone,
    "mastodon_announce_1_undo.json": _boost_then_undone,
    "mastodon_delete_actor_1.json": _actor_deleted,
    "mastodon_flow_1_create_note.json": _create_then_update,
    "mastodon_flow_1_update_note.json": _update_seen_with_its_create,
    "mastodon_flow_2_create_note.json": _FLOW_2,
    "mastodon_flow_2_delete_note.json": _FLOW_2,
    "mastodon_follow_1.json": _follow,
    "mastodon_like_1.json": _like_then_undone,
    "mastodon_like_1_undo.json": _like_then_undone,
    "mitra_follow.json": _follow,
    "munching_cow_create_note_1.json": _COW,
    "munching_cow_delete_1.json": _COW,
    "peertube_create_video_1.json": _video,
}

