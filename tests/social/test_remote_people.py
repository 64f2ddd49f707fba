"""Fediverse people in the store and the social service: named by user@host, found by it,
and followed only once they accept (their posts reach a follower's home timeline then,
not before), on both backends."""

from __future__ import annotations

from weft.ingest import Ingest
from weft.social.names import handle_of, identity_named
from weft.store import people, relationships
from weft.store.database import Database
from weft.store.home_timeline import home_timeline
from weft.store.statuses import Page, status_rows

from ..conftest import FakeClock
from ..store.world import Author, admit, introduce, make_local
from .remote_people_world import BOB, HOST, Actor, answer_follow, hold_actor, remote_post

CAROL = Actor(iri="https://pleroma.example/users/carol", handle=None, username="carol", name="Carol",
              url="https://pleroma.example/carol")


async def test_a_remote_person_is_named_and_found_by_their_handle(database: Database, clock: FakeClock) -> None:
    async with Ingest(database, clock) as ingest:
        bob = await hold_actor(database, ingest, Actor(), ts=clock())
        carol = await hold_actor(database, ingest, CAROL, ts=clock())
    async with database.read() as conn:
        found = await people.persons(conn, [bob, carol], now_ms=clock())
        named = {name: await identity_named(conn, name) for name in (
            f"bob@{HOST}", f"@BOB@{HOST.upper()}", BOB, "carol@pleroma.example", f"eve@{HOST}",
            "bob@elsewhere.example", "bob", "@bob@")}
    person = found[bob]
    assert person.remote is not None and person.username is None
    assert (person.remote.iri, person.remote.url, person.remote.host) == (BOB, f"https://{HOST}/@bob", HOST)
    assert handle_of(person) == f"bob@{HOST}" and person.remote.verified
    assert person.profile["name"] == "Bob Remote"
    # carol's server has not confirmed her handle: she goes by the one her actor suggests
    assert handle_of(found[carol]) == "carol@pleroma.example" and not found[carol].remote.verified
    assert named == {f"bob@{HOST}": bob, f"@BOB@{HOST.upper()}": bob, BOB: bob, "carol@pleroma.example": carol,
                     f"eve@{HOST}": None, "bob@elsewhere.example": None, "bob": None, "@bob@": None}


async def test_a_follow_of_a_remote_person_waits_for_their_accept(database: Database, clock: FakeClock) -> None:
    alice = Author(clock, "phone")
    actor = Actor()
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        me = await make_local(database, alice)
        bob = await hold_actor(database, ingest, actor, ts=clock())
        await remote_post(ingest, actor, 1, ts=clock.advance(1000))
        await admit(ingest, alice.phone.write({"type": "follow", "target": BOB}, ts=clock.advance(1000)))

        async def home_authors() -> list[int]:
            async with database.read() as conn:
                items = await home_timeline(conn, me, Page(), now_ms=clock())
                rows = await status_rows(conn, [item.post for item in items], now_ms=clock())
            return [rows[item.post].author for item in items]

        async def relation() -> relationships.RelationRow:
            async with database.read() as conn:
                return (await relationships.relation_rows(conn, me, [bob]))[0]

        assert (await relation()).requested and not (await relation()).following
        assert await home_authors() == []
        async with database.read() as conn:
            assert (await people.person(conn, bob, now_ms=clock())).followers == 0

        await answer_follow(ingest, actor, alice.did, accept=True, ts=clock.advance(1000))
        assert (await relation()).following and not (await relation()).requested
        assert await home_authors() == [bob]
        async with database.read() as conn:
            assert (await people.person(conn, bob, now_ms=clock())).followers == 1

        # later they remove alice from their followers: she follows them no more
        await answer_follow(ingest, actor, alice.did, accept=False, ts=clock.advance(1000))
        assert not (await relation()).following
        assert await home_authors() == []


async def test_a_follow_of_an_actor_not_described_yet_waits_too(database: Database, clock: FakeClock) -> None:
    alice = Author(clock, "phone")
    dave = "https://misskey.example/users/9dave"
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        me = await make_local(database, alice)
        await admit(ingest, alice.phone.write({"type": "follow", "target": dave}))
        async with database.read() as conn:
            [dave_row] = (await people.identity_ids_of(conn, {dave})).values()
            waiting = (await relationships.relation_rows(conn, me, [dave_row]))[0]
            person = await people.person(conn, dave_row, now_ms=clock())
        assert waiting.requested and not waiting.following
        # known by its IRI alone: a handle guessed from it, the IRI as its page
        assert person is not None and person.remote is not None
        assert (handle_of(person), person.remote.url, person.remote.verified) == (
            "9dave@misskey.example", dave, False)
