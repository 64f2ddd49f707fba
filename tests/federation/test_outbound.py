"""A hosted person's entries as the activities the outbox sends, built from what the social
service wrote, field by field, and read back through our own AS2 parser as a remote server
would (on SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from weft.accounts import Account
from weft.core.foreign import make_foreign
from weft.core.ids import entry_id_text, parse_entry_id
from weft.federation.activitystreams import parse_object
from weft.federation.activitystreams_addressing import PUBLIC
from weft.federation.as2_build import CONTEXT
from weft.federation.outbound import Audience, OutboundActivity, load_activity
from weft.federation.remote_objects import Mention, remote_post
from weft.federation.urls import activity_url, actor_url, object_url
from weft.ingest import ForeignOffer
from weft.node import Node
from weft.site import Site
from weft.social import Draft, Status
from weft.store import interactions, statuses
from weft.store.accounts import update_account
from weft.store.schema import BOOST, LIKE, entries, federation_queue

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "ab" * 32}
BASE = "https://weft.test"
ROB = "https://remote.example/users/rob"
ROB_NOTE = "https://remote.example/notes/1"
ROB_FOLLOW = "https://remote.example/follows/1"
STRANGER = "did:weft:" + "a" * 48   # a weft identity hosted elsewhere: it has no actor


@dataclass
class World:
    node: Node
    site: Site
    alice: Account
    bob: Account

    async def row(self, entry_id: bytes) -> int:
        async with self.node.db.read() as conn:
            return int((await conn.execute(select(entries.c.id).where(entries.c.entry_id == entry_id))).scalar_one())

    async def built(self, entry_id: bytes) -> OutboundActivity | None:
        row = await self.row(entry_id)
        async with self.node.db.read() as conn:
            return await load_activity(conn, BASE, row)

    async def publish(self, account: Account, content: dict[str, Any]) -> bytes:
        author = self.site.accounts.author(await self.site.accounts.account(account.id))
        return (await self.node.publish(content, author=author)).id

    async def foreign(self, content: dict[str, Any], origin: str) -> bytes:
        entry, data = make_foreign(content, author=ROB, origin=origin, via="signature", ts=self.node.clock())
        outcome, = await self.node.ingest.foreign([ForeignOffer(entry.raw, data)])
        assert outcome.status == "stored" and outcome.entry_id is not None, outcome
        return outcome.entry_id

    async def status_of(self, entry_id: bytes) -> int:
        async with self.node.db.read() as conn:
            row = await statuses.row_of_entry(conn, entry_id)
            assert row is not None
            return statuses.status_id((await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row].ts, row)


@contextlib.asynccontextmanager
async def world(config: Any) -> AsyncIterator[World]:
    async with Node.open(config("n")) as node:
        site = Site.for_node(node, BASE, environ=ENV)
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        try:
            yield World(node, site, alice, bob)
        finally:
            await site.social.close()


def sent(activity: OutboundActivity | None) -> OutboundActivity:
    assert activity is not None
    assert activity.activity["@context"][:2] == CONTEXT[:2]
    orjson.dumps(activity.activity)   # ready for the wire as it is
    return activity


def read_note(activity: dict[str, Any]) -> Any:
    """The embedded Note as a remote server reads it."""
    return remote_post(parse_object(orjson.dumps({"@context": CONTEXT, **activity["object"]})),
                       followers=actor_url(BASE, "alice") + "/followers")


ALICE = actor_url(BASE, "alice")
BOB = actor_url(BASE, "bob")
FOLLOWERS = ALICE + "/followers"


async def test_posts_and_replies_go_out_as_create_note_and_read_back_the_same(any_config) -> None:
    async with world(any_config) as w:
        posted = await w.site.social.posting.compose(w.alice, Draft("Hello @bob, see #Weft", summary="spoilers"))
        created = sent(await w.built(eid(posted)))
        entry_id = eid(posted)
        activity, obj = created.activity, created.activity["object"]
        assert (created.actor, created.actor_identity) == (ALICE, w.alice.identity)
        assert activity["type"] == "Create" and activity["id"] == activity_url(BASE, entry_id)
        assert activity["actor"] == ALICE and activity["to"] == [PUBLIC] and activity["cc"] == [FOLLOWERS, BOB]
        assert obj["id"] == object_url(BASE, entry_id) and obj["type"] == "Note" and obj["attributedTo"] == ALICE
        assert obj["url"] == f"{BASE}/@alice/{posted.id}"
        assert obj["summary"] == "spoilers" and obj["sensitive"] is True
        assert obj["published"].endswith("Z") and "inReplyTo" not in obj
        assert f'href="{BASE}/@bob"' in obj["content"] and f'href="{BASE}/tags/weft"' in obj["content"]
        assert obj["tag"] == [{"type": "Mention", "href": BOB, "name": f"@bob@{BASE[8:]}"},
                              {"type": "Hashtag", "href": f"{BASE}/tags/weft", "name": "#weft"}]
        assert created.audience == Audience(followers=True, people=(), public=True)
        back = read_note(activity)
        assert (back.text, back.visibility, back.summary, back.author) == (
            "Hello @bob, see #Weft", "public", "spoilers", ALICE)
        assert back.mentions == (Mention(BOB, f"@bob@{BASE[8:]}"),) and back.hashtags == ("weft",)

        # A reply to a remote post: to its origin, addressed to its author and delivered to them.
        remote = await w.foreign({"type": "post", "text": "hi all", "html": "<p>hi all</p>", "visibility": "public"},
                                 ROB_NOTE)
        reply = await w.site.social.posting.compose(w.alice, Draft("and hi to you", reply_to=await w.status_of(remote),
                                                                 visibility="unlisted"))
        answered = sent(await w.built(eid(reply)))
        note = answered.activity["object"]
        assert note["inReplyTo"] == ROB_NOTE
        assert note["to"] == [FOLLOWERS] and note["cc"] == [PUBLIC, ROB]
        assert {"type": "Mention", "href": ROB} in note["tag"]
        assert answered.audience == Audience(followers=True, people=(ROB,), public=True)
        back = read_note(answered.activity)
        assert (back.in_reply_to, back.visibility, back.text) == (ROB_NOTE, "unlisted", "and hi to you")

        # A reply to a local post names the post's object URL.
        local = await w.site.social.posting.compose(w.alice, Draft("thread", reply_to=posted.id))
        assert sent(await w.built(eid(local))).activity["object"]["inReplyTo"] == object_url(BASE, entry_id)


async def test_each_visibility_is_addressed_as_mastodon_does(any_config) -> None:
    async with world(any_config) as w:
        expected = {
            "public": ([PUBLIC], [FOLLOWERS, BOB], Audience(True, (), True)),
            "unlisted": ([FOLLOWERS], [PUBLIC, BOB], Audience(True, (), True)),
            "followers": ([FOLLOWERS], [BOB], Audience(True, (), False)),
            "direct": ([BOB], [], Audience(False, (), False)),
        }
        for visibility, (to, cc, audience) in expected.items():
            posted = await w.site.social.posting.compose(w.alice, Draft(f"{visibility} @bob", visibility=visibility))
            created = sent(await w.built(eid(posted)))
            assert (created.activity["to"], created.activity.get("cc", [])) == (to, cc), visibility
            assert created.audience == audience, visibility
            assert read_note(created.activity).visibility == visibility
        # Remote mentions are delivered to, a weft identity hosted elsewhere is left out.
        entry_id = await w.publish(w.alice, {"type": "post", "text": "@rob psst", "visibility": "direct",
                                             "mentions": [ROB, STRANGER]})
        direct = sent(await w.built(entry_id))
        assert direct.activity["to"] == [ROB] and direct.audience == Audience(False, (ROB,), False)
        assert [tag["href"] for tag in direct.activity["object"]["tag"]] == [ROB]
        # Its delete reaches whom it reached, though the mentions went with its content.
        await w.site.social.posting.delete(w.alice, await w.status_of(entry_id))
        deleted = sent(await w.built(await _newest_entry(w, w.alice)))
        assert deleted.activity["type"] == "Delete" and deleted.audience == Audience(False, (ROB,), False)


async def test_edits_and_deletes_update_and_tombstone_the_note(any_config) -> None:
    async with world(any_config) as w:
        posted = await w.site.social.posting.compose(w.alice, Draft("first words", visibility="followers"))
        entry_id = eid(posted)
        await w.site.social.posting.edit(w.alice, posted.id, text="second words", summary="cw")
        edit_id = await _newest_entry(w, w.alice)
        updated = sent(await w.built(edit_id))
        assert updated.activity["type"] == "Update" and updated.activity["id"] == object_url(BASE, edit_id)
        note = updated.activity["object"]
        assert note["id"] == object_url(BASE, entry_id) and "updated" in note and note["summary"] == "cw"
        assert read_note(updated.activity).text == "second words"
        assert updated.audience == Audience(followers=True, people=(), public=False)
        # The Create rebuilt later shows the post as it now reads.
        assert read_note(sent(await w.built(entry_id)).activity).text == "second words"

        await w.site.social.posting.delete(w.alice, posted.id)
        delete_id = await _newest_entry(w, w.alice)
        deleted = sent(await w.built(delete_id))
        assert deleted.activity["type"] == "Delete" and deleted.activity["id"] == object_url(BASE, delete_id)
        assert deleted.activity["object"] == {"id": object_url(BASE, entry_id), "type": "Tombstone"}
        assert deleted.audience == Audience(followers=True, people=(), public=False)
        assert remote_post(parse_object(orjson.dumps({"@context": CONTEXT, **deleted.activity["object"]}))).deleted
        # What is gone is not sent again.
        assert await w.built(entry_id) is None and await w.built(edit_id) is None


async def test_likes_and_boosts_of_remote_and_local_posts(any_config) -> None:
    async with world(any_config) as w:
        remote = await w.foreign({"type": "post", "text": "boost me", "visibility": "public"}, ROB_NOTE)
        sid = await w.status_of(remote)
        await w.site.social.posting.react(w.alice, sid, "favourite", on=True)
        await w.site.social.posting.react(w.alice, sid, "reblog", on=True)
        async with w.node.db.read() as conn:
            like_id, _, _ = await interactions.own_reaction(conn, w.alice.identity, remote, LIKE) or (b"",)
            boost_id, _, _ = await interactions.own_reaction(conn, w.alice.identity, remote, BOOST) or (b"",)
        liked = sent(await w.built(like_id))
        assert liked.activity["type"] == "Like" and liked.activity["object"] == ROB_NOTE
        assert liked.activity["id"] == object_url(BASE, like_id) and liked.audience == Audience(people=(ROB,))
        boosted = sent(await w.built(boost_id))
        assert boosted.activity["type"] == "Announce" and boosted.activity["object"] == ROB_NOTE
        assert boosted.activity["id"] == object_url(BASE, boost_id)
        assert boosted.activity["to"] == [PUBLIC] and boosted.activity["cc"] == [FOLLOWERS, ROB]
        assert boosted.audience == Audience(followers=True, people=(ROB,), public=True)
        assert parse_object(orjson.dumps(boosted.activity)).has_type("Announce")

        await w.site.social.posting.react(w.alice, sid, "reblog", on=False)
        unboosted = sent(await w.built(await _newest_entry(w, w.alice)))
        assert unboosted.activity["type"] == "Undo"
        assert unboosted.activity["object"]["id"] == object_url(BASE, boost_id)
        assert unboosted.activity["object"]["type"] == "Announce"
        assert unboosted.audience == boosted.audience             # the Announce's own: rob too
        assert unboosted.activity["object"]["object"] == ROB_NOTE
        # An unlike: the Like whole (Mastodon reads its object), to whom the like went, though
        # the fold dropped the like's content: its queue row kept the liked post's id.
        await w.site.social.posting.react(w.alice, sid, "favourite", on=False)
        unliked = sent(await w.built(await _newest_entry(w, w.alice)))
        assert unliked.activity["type"] == "Undo" and unliked.audience == Audience(people=(ROB,))
        assert unliked.activity["object"] == {k: v for k, v in liked.activity.items() if k != "@context"}
        assert parse_object(orjson.dumps(unliked.activity)).has_type("Undo")
        async with w.node.db.read() as conn:     # what it kept is ids, and the like's content is gone
            kept = (await conn.execute(select(federation_queue.c.target_facts).where(
                federation_queue.c.target_facts.is_not(None)))).scalars().all()
            assert await conn.scalar(select(entries.c.content).where(entries.c.entry_id == like_id)) is None
        assert sorted((orjson.loads(k) for k in kept), key=str) == [
            {"type": "boost", "target": entry_id_text(remote)}, {"type": "like", "target": entry_id_text(remote)}]

        # A like of a hosted post is an activity nobody remote receives.
        mine = await w.site.social.posting.compose(w.bob, Draft("local"))
        await w.site.social.posting.react(w.alice, mine.id, "favourite", on=True)
        local_like = sent(await w.built(await _newest_entry(w, w.alice)))
        assert local_like.activity["object"] == object_url(BASE, eid(mine))
        assert local_like.audience == Audience()


async def test_follows_blocks_and_answers_name_remote_actors(any_config) -> None:
    async with world(any_config) as w:
        follow_id = await w.publish(w.alice, {"type": "follow", "target": ROB})
        followed = sent(await w.built(follow_id))
        assert followed.activity == {**followed.activity, "type": "Follow", "id": object_url(BASE, follow_id),
                                     "actor": ALICE, "object": ROB}
        assert followed.audience == Audience(people=(ROB,))
        unfollow_id = await w.publish(w.alice, {"type": "unfollow", "target": ROB})
        undone = sent(await w.built(unfollow_id))
        assert undone.activity["type"] == "Undo" and undone.activity["id"] == object_url(BASE, unfollow_id)
        assert undone.activity["object"]["id"] == object_url(BASE, follow_id)
        assert undone.activity["object"]["type"] == "Follow" and undone.activity["object"]["object"] == ROB
        assert parse_object(orjson.dumps(undone.activity)).has_type("Undo")

        block_id = await w.publish(w.alice, {"type": "block", "target": ROB})
        assert sent(await w.built(block_id)).activity["type"] == "Block"
        unblocked = sent(await w.built(await w.publish(w.alice, {"type": "unblock", "target": ROB})))
        assert unblocked.activity["object"]["id"] == object_url(BASE, block_id)
        assert await w.built(await w.publish(w.alice, {"type": "mute", "target": ROB})) is None
        assert await w.built(await w.publish(w.alice, {"type": "follow", "target": STRANGER})) is None
        to_bob = sent(await w.built(await w.publish(w.alice, {"type": "follow", "target": w.bob.did})))
        assert to_bob.activity["object"] == BOB and to_bob.audience == Audience()

        # Rob follows alice; her answer names his Follow by its own id.
        await w.foreign({"type": "follow", "target": w.alice.did}, ROB_FOLLOW)
        accepted = sent(await w.built(await w.publish(w.alice, {"type": "follow_accept", "target": ROB})))
        assert accepted.activity["type"] == "Accept" and accepted.audience == Audience(people=(ROB,))
        assert accepted.activity["object"] == {"id": ROB_FOLLOW, "type": "Follow", "actor": ROB, "object": ALICE}
        rejected = sent(await w.built(await w.publish(w.alice, {"type": "follow_reject", "target": ROB})))
        assert rejected.activity["type"] == "Reject" and rejected.activity["object"]["id"] == ROB_FOLLOW


async def test_a_profile_change_updates_the_whole_actor(any_config) -> None:
    async with world(any_config) as w:
        profile_id = await w.publish(w.alice, {"type": "profile", "name": "Alice A", "bio": "I like #knitting",
                                               "fields": [["site", "https://a.example"]], "locked": True})
        updated = sent(await w.built(profile_id))
        person = updated.activity["object"]
        assert updated.activity["type"] == "Update" and updated.activity["to"] == [PUBLIC]
        assert updated.audience == Audience(followers=True, public=True)
        assert person["id"] == ALICE and person["type"] == "Person" and person["name"] == "Alice A"
        assert person["manuallyApprovesFollowers"] is True and person["weft:did"] == w.alice.did
        assert f'{BASE}/tags/knitting' in person["summary"]
        assert person["attachment"][0]["name"] == "site"
        assert "publicKey" not in person   # no key made yet: none rather than an empty one
        parsed = parse_object(orjson.dumps(updated.activity))
        assert parsed.has_type("Update")


async def test_entries_of_people_not_hosted_here_or_disabled_do_not_federate(any_config) -> None:
    async with world(any_config) as w:
        remote = await w.foreign({"type": "post", "text": "not ours"}, ROB_NOTE)
        assert await w.built(remote) is None
        posted = await w.site.social.posting.compose(w.bob, Draft("soon silent"))
        async with w.node.db.write() as conn:
            await update_account(conn, w.bob.id, state="disabled")
        assert await w.built(eid(posted)) is None
        async with w.node.db.read() as conn:
            assert await load_activity(conn, BASE, 10**9) is None


def eid(status: Status) -> bytes:
    return parse_entry_id(status.row.entry_id)


async def _newest_entry(w: World, account: Account) -> bytes:
    async with w.node.db.read() as conn:
        return bytes((await conn.execute(select(entries.c.entry_id).where(entries.c.author == account.identity)
                                         .order_by(entries.c.id.desc()).limit(1))).scalar_one())

