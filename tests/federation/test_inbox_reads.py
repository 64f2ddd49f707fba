"""What a busy inbox asks of its database, on SQLite and PostgreSQL (tests.federation.inbox_world):
senders' keys and actors read once and then held in memory, and the questions of
activities mapped at the same moment answered by one read (bench/bench_inbox.py is why)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event

from weft.federation.inbound_reads import Questions
from weft.store.database import Database

from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL run on ``db`` (either engine) while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engines = {id(engine.sync_engine): engine.sync_engine for engine in (db.reader, db.writer)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def _about_actors(seen: list[str]) -> list[str]:
    return [sql for sql in seen if "FROM remote_actors" in sql]


async def test_a_senders_key_and_actor_are_read_once_then_held_until_fetched_again_or_forgotten(world: World) -> None:
    bob = world.actor()
    federation = world.node.site.federation
    assert federation is not None
    actors = federation.actors
    create = world.remote.create(bob, world.remote.note(bob, "<p>hi</p>", cc=[bob.followers, world.alice_iri]))
    assert (await world.remote.deliver(bob, world.inbox, create)).status_code == 202   # fetched, stored
    with statements(world.db) as seen:
        note = world.remote.note(bob, "<p>again</p>", cc=[bob.followers, world.alice_iri])
        assert (await world.remote.deliver(bob, world.inbox, world.remote.create(bob, note))).status_code == 202
        owner, pem = await actors.key_for(bob.key_id)
        assert (await actors.actor(bob.iri)).public_key_pem == pem and owner == bob.iri
    assert _about_actors(seen) == []
    assert len(await world.posts_by(bob.iri)) == 2

    bob.rotate()   # the new key reaches memory as the actor is fetched again
    fresh = await actors.actor(bob.iri, refresh=True)
    with statements(world.db) as seen:
        assert (await actors.key_for(bob.key_id))[1] == fresh.public_key_pem != pem
    assert _about_actors(seen) == []

    await actors.forget(bob.iri)
    with statements(world.db) as seen:
        assert await actors.held(bob.iri) is None
    assert len(_about_actors(seen)) == 1


async def test_questions_asked_at_once_are_read_together_and_each_asker_gets_its_answers(world: World) -> None:
    bob, carol = world.actor(), world.actor()
    federation = world.node.site.federation
    assert federation is not None
    note = world.remote.note(bob, "<p>held</p>", cc=[bob.followers, world.alice_iri])
    assert (await world.remote.deliver(bob, world.inbox, world.remote.create(bob, note))).status_code == 202
    bob_id = await world.identity(bob.iri)
    await world.node.site.social.following.relate(world.alice, bob_id, "follow")
    carol_id = (await federation.actors.actor(carol.iri)).identity
    [(_, held)] = await world.posts_by(bob.iri)

    asked = [Questions(origins={note["id"]}), Questions(origins={f"{note['id']}-not-held"}),
             Questions(usernames={"alice", "nobody-here"}), Questions(followed={bob_id, carol_id}),
             *[Questions(origins={note["id"]}, followed={bob_id}) for _ in range(4)]]
    with statements(world.db) as seen:
        answers = await asyncio.gather(*(federation.inbound.reads.ask(questions) for questions in asked))
    assert len([sql for sql in seen if "FROM foreign_origins" in sql]) == 1    # one read for all eight
    assert len([sql for sql in seen if sql.startswith("BEGIN")]) <= 1
    first = answers[0]
    assert first.origins == {note["id"]: held}
    assert first.accounts["alice"] is not None and first.accounts["alice"].id == world.alice.id
    assert first.accounts["nobody-here"] is None
    assert first.followed == {bob_id}

    with statements(world.db) as seen:                # alone, a question is read at once
        assert (await federation.inbound.reads.ask(Questions(origins={note["id"]}))).origins == {note["id"]: held}
    assert len([sql for sql in seen if "FROM foreign_origins" in sql]) == 1
