"""Remote actors against a fake Fediverse server on loopback, on SQLite and PostgreSQL:
fetched and cached, their profiles ingested, ids, keys and handles checked as Mastodon does."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from weft.federation.remote_actors import RemoteActorError, RemoteActors
from weft.federation.urls import actor_url

from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture


def _actors(world: World) -> RemoteActors:
    federation = world.node.site.federation
    assert federation is not None
    return federation.actors


async def test_an_actor_is_fetched_once_cached_and_its_profile_ingested(world: World) -> None:
    bob = world.actor(display_name="Bob B.", summary="<p>I <b>build</b> boats</p><script>x</script>", locked=True)
    actors = _actors(world)
    before = len(world.remote.requests)
    first, second = await asyncio.gather(actors.actor(bob.iri), actors.actor(bob.iri))
    assert first == second
    assert world.remote.requests[before:].count(f"/users/{bob.name}") == 1   # one fetch for both
    assert (first.kind, first.inbox, first.shared_inbox, first.followers) == (
        "Person", f"{bob.iri}/inbox", f"{world.remote.url}/inbox", bob.followers)
    assert first.key_id == bob.key_id and first.public_key_pem and "BEGIN PUBLIC KEY" in first.public_key_pem
    assert first.handle == f"{bob.name}@{world.remote.host}"
    assert orjson.loads(first.document)["id"] == bob.iri
    await actors.actor(bob.iri)
    assert world.remote.requests[before:].count(f"/users/{bob.name}") == 1   # cached
    await actors.actor(bob.iri, refresh=True)
    assert world.remote.requests[before:].count(f"/users/{bob.name}") == 2
    [profile] = [c for c in await world.contents_by(first.identity) if c["type"] == "profile"]
    assert profile["name"] == "Bob B." and profile["bio"] == "I build boats" and profile["locked"] is True
    assert "script" not in profile["bio_html"] and profile["bot"] is False
    bob.display_name = "Robert"
    await actors.actor(bob.iri, refresh=True)
    names = [c["name"] for c in await world.contents_by(first.identity) if c["type"] == "profile"]
    assert names == ["Bob B.", "Robert"]   # an unchanged profile fetched again is no new entry


async def test_a_document_that_is_not_what_its_id_says_is_refused(world: World) -> None:
    carol = world.actor()
    actors = _actors(world)
    elsewhere = actor_url(world.node.url, "carol")   # another host's URL
    world.remote.objects[f"{carol.iri}/alias"] = {**world.remote.actor_document(carol), "id": elsewhere}
    with pytest.raises(RemoteActorError, match="id is"):
        await actors.fetch_object(f"{carol.iri}/alias")
    # The same host may serve it under another URL: it is fetched again at its id.
    world.remote.objects[f"{carol.iri}/copy"] = world.remote.actor_document(carol)
    assert (await actors.fetch_object(f"{carol.iri}/copy")).id == carol.iri
    with pytest.raises(RemoteActorError, match="not itself"):
        await actors.actor(f"{carol.iri}/copy")
    with pytest.raises(RemoteActorError, match="404"):
        await actors.actor(f"{world.remote.url}/users/nobody-at-all")


async def test_keys_are_found_stored_or_fetched_and_must_be_listed_by_their_actor(world: World) -> None:
    dave, eve = world.actor(), world.actor()
    actors = _actors(world)
    assert await actors.key_for(dave.key_id) == (dave.iri, (await actors.actor(dave.iri)).public_key_pem)
    # A key document of its own (as GoToSocial serves them) names its owner, who must list it.
    key_doc = f"{dave.iri}/keys/1"
    world.remote.objects[key_doc] = {"id": key_doc, "owner": dave.iri, "publicKeyPem": "x"}
    with pytest.raises(RemoteActorError, match="does not list"):
        await actors.key_for(key_doc)
    # A key claiming an owner on another host is refused before the owner is fetched.
    world.remote.objects[f"{eve.iri}/keys/2"] = {"id": f"{eve.iri}/keys/2", "owner": actor_url(world.node.url, "alice"),
                                                 "publicKeyPem": "x"}
    with pytest.raises(RemoteActorError, match="another host"):
        await actors.key_for(f"{eve.iri}/keys/2")


async def test_a_handle_resolves_only_when_webfinger_agrees_both_ways(world: World) -> None:
    frank = world.actor()
    actors = _actors(world)
    found = await actors.resolve_handle(f"@{frank.name}@{world.remote.host}")
    assert found.iri == frank.iri and found.handle == f"{frank.name}@{world.remote.host}"
    # WebFinger at the host names frank for another user name: frank does not agree.
    world.remote.aliases["mallory"] = frank
    with pytest.raises(RemoteActorError, match="does not agree"):
        await actors.resolve_handle(f"mallory@{world.remote.host}")
    with pytest.raises(RemoteActorError, match="not a handle"):
        await actors.resolve_handle("no-at-sign")
    with pytest.raises(RemoteActorError, match="WebFinger"):
        await actors.resolve_handle(f"nobody@{world.remote.host}")
