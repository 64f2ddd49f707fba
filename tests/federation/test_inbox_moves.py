"""An account of the Fediverse moving (Move), delivered to a served weft node by the fake
server, on SQLite and PostgreSQL (tests.federation.inbox_world): a Move to an account that
lists the mover as an alias takes the mover's followers here along, once; any other Move
changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from weft.api.mastodon.entities import account_entity
from weft.federation.urls import actor_url

from .fediverse_fake import FakeActor
from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture

WAIT_S = 20.0


async def _delivered(world: World, check: Any, what: str) -> dict[str, Any]:
    """The first activity the fake server received that ``check`` accepts (deliveries are
    asynchronous: the outbox sends them)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        found = next((activity for _, activity in world.remote.received if check(activity)), None)
        if found is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _moves_by(world: World, actor: FakeActor) -> list[dict[str, Any]]:
    return [c for c in await world.contents_by(await world.identity(actor.iri)) if c["type"] == "move"]


async def _accepted_follow(world: World, follower_iri: str, actor: FakeActor) -> None:
    accept = world.remote.activity(actor, "Accept", {"type": "Follow", "actor": follower_iri, "object": actor.iri})
    assert (await world.remote.deliver(actor, world.inbox, accept)).status_code == 202


async def test_a_move_to_an_account_that_lists_the_mover_takes_the_followers_here_along_once(world: World) -> None:
    site = world.node.site
    assert site.directory is not None and site.federation is not None
    following = site.social.following
    old, new, stranger = world.actor(), world.actor(), world.actor()
    new.also_known_as = [old.iri]
    dan = await site.accounts.sign_up("dan", "a long password", by_admin=True)
    erin = await site.accounts.sign_up("erin", "a long password", by_admin=True)
    dan_iri, erin_iri = actor_url(world.node.url, "dan"), actor_url(world.node.url, "erin")
    old_row = await site.directory.resolve(old.iri)
    assert old_row is not None
    await following.relate(dan, old_row, "follow")
    await _accepted_follow(world, dan_iri, old)
    await following.relate(world.alice, old_row, "follow")            # still waiting for old's answer

    site.federation.outbox.start()
    try:
        refused = [
            world.remote.activity(old, "Move", old.iri, target=stranger.iri),     # lists nobody
            world.remote.activity(old, "Move", stranger.iri, target=new.iri),     # moves someone else
            world.remote.activity(old, "Move", old.iri),                          # to nobody
        ]
        for move in refused:
            assert (await world.remote.deliver(old, world.inbox, move)).status_code == 202
        assert await _moves_by(world, old) == []
        [dan_old] = await following.relationships(dan, [old_row])
        assert dan_old.following

        move = world.remote.activity(old, "Move", old.iri, target=new.iri)
        assert (await world.remote.deliver(old, world.inbox, move)).status_code == 202
        assert await _moves_by(world, old) == [{"type": "move", "target": new.iri}]
        new_row = await world.identity(new.iri)
        for follower in (dan, world.alice):   # an accepted follow and a request alike
            was, now = await following.relationships(follower, [old_row, new_row])
            assert not (was.following or was.requested) and now.requested
        await _delivered(world, lambda a: a["type"] == "Follow" and a["actor"] == dan_iri and a["object"] == new.iri,
                         "dan's Follow at the new account's server")
        await _delivered(world, lambda a: a["type"] == "Undo" and a["actor"] == dan_iri
                         and a["object"]["object"] == old.iri, "dan's Undo(Follow) at the old account's server")

        moved = await following.person(old_row)
        assert moved.moved is not None and moved.moved.did == new.iri
        entity = account_entity(moved, site.base_url)
        assert entity["moved"]["uri"] == new.iri and "moved" not in entity["moved"]

        # Delivered again, the Move is one: erin, who follows the old account since, stays.
        await following.relate(erin, old_row, "follow")
        await _accepted_follow(world, erin_iri, old)
        assert (await world.remote.deliver(old, world.inbox, move)).status_code == 202
        assert len(await _moves_by(world, old)) == 1
        [erin_old, erin_new] = await following.relationships(erin, [old_row, new_row])
        assert erin_old.following and not (erin_new.following or erin_new.requested)
        assert not [a for _, a in world.remote.received if a["type"] == "Follow" and a["actor"] == erin_iri
                    and a["object"] == new.iri]
    finally:
        await site.federation.outbox.stop()
