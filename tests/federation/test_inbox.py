"""The inboxes end to end: a fake Fediverse server on loopback signs deliveries to a served
weft node, on SQLite and PostgreSQL (tests.federation.inbox_world); what arrives is read
back through the social service."""

from __future__ import annotations

import time

from sqlalchemy import select

from weft.core.ids import parse_entry_id
from weft.federation.urls import object_url
from weft.ratelimit import RateLimiter
from weft.social import Draft
from weft.store.entries import entries_by_ids
from weft.store.schema import entries, identities

from .fediverse_fake import PUBLIC
from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture


async def _alice_post(world: World, text: str) -> tuple[int, bytes]:
    """(status id, entry id) of a new public post by alice."""
    status = await world.node.site.social.posting.compose(world.alice, Draft(text))
    return status.id, parse_entry_id(status.row.entry_id)


async def test_a_mention_reaches_notifications_and_a_replayed_create_is_stored_once(world: World) -> None:
    bob = world.actor()
    mention = {"type": "Mention", "href": world.alice_iri, "name": f"@alice@{world.node.url.split('//')[1]}"}
    note = world.remote.note(bob, "<p>hello <span>@alice</span></p><script>x()</script>",
                             cc=[bob.followers, world.alice_iri], tags=[mention])
    create = world.remote.create(bob, note)
    assert (await world.remote.deliver(bob, world.inbox, create)).status_code == 202
    again = await world.remote.deliver(bob, f"{world.node.url}/users/alice/inbox", create)
    assert again.status_code == 202
    assert len(await world.posts_by(bob.iri)) == 1
    astray = await world.remote.deliver(bob, f"{world.node.url}/users/nobody/inbox", create)
    assert astray.status_code == 404 and "nobody" in astray.json()["error"]
    notices = await world.node.site.social.notices.page(world.alice, limit=20)
    mine = [n for n in notices if n.actor.did == bob.iri]
    assert [n.kind for n in mine] == ["mention"]
    assert mine[0].status is not None and mine[0].status.row.text == "hello @alice"
    assert "script" not in (mine[0].status.row.html or "")


async def test_a_forged_or_missing_signature_is_refused(world: World) -> None:
    bob, mallory = world.actor(), world.actor()
    create = world.remote.create(bob, world.remote.note(bob, "<p>forged</p>", cc=[world.alice_iri]))
    forged = await world.remote.deliver(bob, world.inbox, create, key=mallory.key)
    assert forged.status_code == 401
    unsigned = await world.remote.deliver(bob, world.inbox, create, signed=False)
    assert unsigned.status_code == 401 and "signature" in unsigned.json()["error"]
    # A valid signature by another actor's key for bob's activity: the key's owner is not the actor.
    as_mallory = await world.remote.deliver(bob, world.inbox, create, key=mallory.key, key_id=mallory.key_id)
    assert as_mallory.status_code == 401 and "not of the activity's actor" in as_mallory.json()["error"]
    assert await _held_posts(world, bob.iri) == 0


async def _held_posts(world: World, iri: str) -> int:
    async with world.db.read() as conn:
        known = (await conn.execute(select(identities.c.id).where(identities.c.did == iri))).first()
    return 0 if known is None else len(await world.posts_by(iri))


async def test_a_rotated_key_is_fetched_again_and_the_delivery_accepted(world: World) -> None:
    bob = world.actor()
    first = world.remote.create(bob, world.remote.note(bob, "<p>before</p>", cc=[world.alice_iri]))
    assert (await world.remote.deliver(bob, world.inbox, first)).status_code == 202
    fetched = len(world.remote.requests)
    bob.rotate()
    second = world.remote.create(bob, world.remote.note(bob, "<p>after</p>", cc=[world.alice_iri]))
    assert (await world.remote.deliver(bob, world.inbox, second)).status_code == 202
    assert f"/users/{bob.name}" in world.remote.requests[fetched:]
    assert len(await world.posts_by(bob.iri)) == 2


async def test_bad_bodies_are_refused_before_anything_is_fetched(world: World) -> None:
    bob = world.actor()
    fetched = len(world.remote.requests)
    huge = b'{"type": "Create", "content": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await world.remote.deliver(bob, world.inbox, huge)).status_code == 413
    assert (await world.remote.deliver(bob, world.inbox, b'{"type": "Create", ')).status_code == 400
    assert (await world.remote.deliver(bob, world.inbox, b"[1, 2]")).status_code == 400
    no_actor = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{bob.iri}/x", "type": "Like"}
    assert (await world.remote.deliver(bob, world.inbox, no_actor)).status_code == 400
    plain = await world.remote.deliver(bob, world.inbox, world.remote.activity(bob, "Like", world.alice_iri),
                                       content_type="text/plain")
    assert plain.status_code == 415
    assert world.remote.requests[fetched:] == []


async def test_a_host_sending_too_much_is_told_to_wait(world: World) -> None:
    bob = world.actor()
    inbox = world.node.site.federation.inbox  # type: ignore[union-attr]
    saved, inbox.limits = inbox.limits, RateLimiter(1, 300, time.monotonic)
    try:
        like = world.remote.activity(bob, "Like", world.alice_iri)
        assert (await world.remote.deliver(bob, world.inbox, like)).status_code == 202
        refused = await world.remote.deliver(bob, world.inbox, world.remote.activity(bob, "Like", world.alice_iri))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    finally:
        inbox.limits = saved


async def test_a_reply_to_our_post_threads_under_it_and_a_remote_parent_is_fetched(world: World) -> None:
    bob, carol = world.actor(), world.actor()
    status_id, entry_id = await _alice_post(world, "what do you think?")
    ours = object_url(world.node.url, entry_id)
    reply = world.remote.note(bob, "<p>I think so</p>", in_reply_to=ours)
    assert (await world.remote.deliver(bob, world.inbox, world.remote.create(bob, reply))).status_code == 202
    _, descendants = await world.node.site.social.statuses.context(world.alice, status_id)
    assert [s.row.text for s in descendants] == ["I think so"]
    # carol answers bob's reply, which we hold, and bob's next note answers one of carol's we do not hold.
    unheld = world.remote.note(carol, "<p>a parent only its server has</p>", in_reply_to=reply["id"])
    deeper = world.remote.note(bob, "<p>deeper</p>", in_reply_to=unheld["id"], cc=[world.alice_iri])
    assert (await world.remote.deliver(bob, world.inbox, world.remote.create(bob, deeper))).status_code == 202
    _, descendants = await world.node.site.social.statuses.context(world.alice, status_id)
    assert [s.row.text for s in descendants] == ["I think so", "a parent only its server has", "deeper"]
    assert all(s.row.root == descendants[0].row.root for s in descendants)


async def test_a_follow_is_counted_and_answered_and_undone(world: World) -> None:
    bob = world.actor()
    follow = world.remote.activity(bob, "Follow", world.alice_iri)
    assert (await world.remote.deliver(bob, world.inbox, follow)).status_code == 202
    following = world.node.site.social.following
    bob_row = await world.identity(bob.iri)
    assert bob_row in [p.identity for p in await following.followers(world.alice.identity, limit=50)]
    answers = [c for c in await world.contents_by(world.alice.identity) if c["type"] == "follow_accept"]
    assert answers == [{"type": "follow_accept", "target": bob.iri}]
    undo = world.remote.activity(bob, "Undo", follow)
    assert (await world.remote.deliver(bob, world.inbox, undo)).status_code == 202
    assert bob_row not in [p.identity for p in await following.followers(world.alice.identity, limit=50)]


async def test_a_like_is_counted_and_undone_and_a_delete_removes_a_post(world: World) -> None:
    bob = world.actor()
    status_id, entry_id = await _alice_post(world, "like me")
    like = world.remote.activity(bob, "Like", object_url(world.node.url, entry_id))
    assert (await world.remote.deliver(bob, world.inbox, like)).status_code == 202
    statuses = world.node.site.social.statuses
    assert (await statuses.status(world.alice, status_id)).row.likes == 1
    undo = world.remote.activity(bob, "Undo", like["id"])
    assert (await world.remote.deliver(bob, world.inbox, undo)).status_code == 202
    assert (await statuses.status(world.alice, status_id)).row.likes == 0

    note = world.remote.note(bob, "<p>soon gone</p>", cc=[world.alice_iri])
    assert (await world.remote.deliver(bob, world.inbox, world.remote.create(bob, note))).status_code == 202
    tombstone = {"id": note["id"], "type": "Tombstone"}
    delete = world.remote.activity(bob, "Delete", tombstone, to=[PUBLIC])
    assert (await world.remote.deliver(bob, world.inbox, delete)).status_code == 202
    [(deleted, post_id)] = await world.posts_by(bob.iri)
    async with world.db.read() as conn:
        row = (await entries_by_ids(conn, [post_id]))[post_id][0]
        content = (await conn.execute(select(entries.c.content).where(entries.c.id == row))).scalar_one()
    assert deleted and content is None


async def test_a_gone_actors_own_delete_is_accepted_unchecked(world: World) -> None:
    ghost = world.actor()
    ghost.gone = True
    delete = world.remote.activity(ghost, "Delete", ghost.iri, to=[PUBLIC])
    assert (await world.remote.deliver(ghost, world.inbox, delete)).status_code == 202
    # Anything else from a key that cannot be had is refused.
    like = world.remote.activity(ghost, "Like", world.alice_iri)
    assert (await world.remote.deliver(ghost, world.inbox, like)).status_code == 401


async def test_an_accept_of_our_follow_lets_alice_in(world: World) -> None:
    bob = world.actor(locked=True)
    directory = world.node.site.directory
    assert directory is not None
    bob_row = await directory.resolve(bob.iri)
    assert bob_row is not None
    following = world.node.site.social.following
    asked = await following.relate(world.alice, bob_row, "follow")
    assert asked.requested and not asked.following
    [follow] = [c for c in await world.contents_by(world.alice.identity)
                if c["type"] == "follow" and c["target"] == bob.iri]
    embedded = {"id": f"{world.node.url}/objects/unknown", "type": "Follow", "actor": world.alice_iri,
                "object": bob.iri}
    accept = world.remote.activity(bob, "Accept", embedded)
    assert (await world.remote.deliver(bob, world.inbox, accept)).status_code == 202
    now = (await following.relationships(world.alice, [bob_row]))[0]
    assert now.following and not now.requested and follow


async def test_a_block_alone_ends_alice_s_follow_of_its_sender_and_its_undo_ends_the_block(world: World) -> None:
    bob = world.actor()
    directory = world.node.site.directory
    assert directory is not None
    bob_row = await directory.resolve(bob.iri)
    assert bob_row is not None
    following = world.node.site.social.following
    await following.relate(world.alice, bob_row, "follow")
    embedded = {"id": f"{world.node.url}/objects/unknown", "type": "Follow", "actor": world.alice_iri,
                "object": bob.iri}
    assert (await world.remote.deliver(bob, world.inbox, world.remote.activity(bob, "Accept", embedded))
            ).status_code == 202
    assert (await following.relationships(world.alice, [bob_row]))[0].following

    # Mastodon sends a Block and no Reject: the block alone ends her follow here.
    block = world.remote.activity(bob, "Block", world.alice_iri)
    assert (await world.remote.deliver(bob, world.inbox, block)).status_code == 202
    [now] = await following.relationships(world.alice, [bob_row])
    assert now.blocked_by and not now.following and not now.requested
    assert bob_row not in [p.identity for p in await following.following(world.alice.identity, limit=50)]
    assert (await world.remote.deliver(bob, world.inbox, world.remote.activity(bob, "Undo", block))).status_code == 202
    [after] = await following.relationships(world.alice, [bob_row])
    assert not after.blocked_by and not after.following    # a block's end does not bring a follow back
