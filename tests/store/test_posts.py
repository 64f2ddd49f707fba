"""Posts as people see them: edits applied, history kept, deletes honoured only from the author."""

from __future__ import annotations

from sqlalchemy import select

from weft.ingest import Ingest
from weft.store import queries
from weft.store.database import Database
from weft.store.schema import entries

from .world import Author, Signed, admit, introduce, make_local, offer


async def contents(db: Database, *signed: Signed) -> list[bytes | None]:
    async with db.read() as conn:
        rows = dict((await conn.execute(select(entries.c.entry_id, entries.c.content)
                                        .where(entries.c.entry_id.in_([s.id for s in signed])))).all())
    return [rows[s.id] for s in signed]


async def texts(db: Database, viewer: int, clock) -> list[str | None]:
    async with db.read() as conn:
        return [p.text for p in await queries.feed(conn, viewer, now_ms=clock())]


async def test_the_newest_edit_by_timestamp_wins_whatever_order_they_arrive_in(database, clock) -> None:
    alice = Author(clock, "phone", "laptop")
    t = clock()
    original = alice.phone.post("draft", ts=t)
    newest = alice.laptop.edit(original, "final", ts=t + 2000)
    older = alice.phone.edit(original, "second draft", ts=t + 1000)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, original, newest)
        await admit(ingest, older)  # arrives last, but was written before `newest`
    async with database.read() as conn:
        [post] = await queries.feed(conn, viewer, now_ms=clock())
        versions = await queries.history(conn, original.id)
    assert (post.text, post.edited_ts, post.ts) == ("final", t + 2000, t)
    assert [(v["text"], v["ts"]) for v in versions] == [
        ("draft", t), ("second draft", t + 1000), ("final", t + 2000)]


async def test_an_edit_by_someone_else_is_stored_but_changes_nothing(database, clock) -> None:
    alice, mallory = Author(clock), Author(clock)
    original = alice.phone.post("what I said")
    forged = mallory.phone.edit(original, "what mallory wants me to say", ts=clock.advance(1000))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, mallory)
        viewer = await make_local(database, alice)
        await admit(ingest, original, forged)
    async with database.read() as conn:
        versions = await queries.history(conn, original.id)
        [post] = await queries.feed(conn, viewer, now_ms=clock())
    assert (post.text, post.edited_ts) == ("what I said", None)
    assert [v["text"] for v in versions] == ["what I said"]
    assert await contents(database, forged) == [forged.content]


async def test_a_delete_by_the_author_removes_the_post_and_every_version(database, clock) -> None:
    alice, bob = Author(clock, "phone", "laptop"), Author(clock)
    original = alice.phone.post("oops")
    edits = [alice.phone.edit(original, "oops, fixed", ts=clock.advance(1)),
             alice.laptop.edit(original, "oops, fixed again", ts=clock.advance(1))]
    kept = alice.phone.post("this one stays", ts=clock.advance(1))
    like = bob.phone.react("like", original)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        viewer = await make_local(database, alice)
        await admit(ingest, original, *edits, kept, like)
        await admit(ingest, alice.laptop.delete(original, ts=clock.advance(1)))
    assert await contents(database, original, *edits) == [None, None, None]
    assert await contents(database, kept, like) == [kept.content, like.content]
    assert await texts(database, viewer, clock) == ["this one stays"]
    async with database.read() as conn:
        detail = await queries.entry_detail(conn, original.id, now_ms=clock())
    assert detail["content"] is None
    assert detail["header"]["seq"] == 1  # the header stays, so the log still verifies
    assert (detail["post"]["deleted"], detail["post"]["text"]) == (True, None)
    assert [v["text"] for v in detail["history"]] == [None, None, None]


async def test_a_delete_by_someone_else_is_stored_but_removes_nothing(database, clock) -> None:
    alice, mallory = Author(clock), Author(clock)
    original = alice.phone.post("still mine")
    forged = mallory.phone.delete(original)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, mallory)
        viewer = await make_local(database, alice)
        await admit(ingest, original, forged)
    assert await contents(database, original) == [original.content]
    assert await texts(database, viewer, clock) == ["still mine"]


async def test_a_delete_by_someone_else_arriving_first_does_not_shield_the_post_from_its_author(
        database, clock) -> None:
    alice, mallory = Author(clock, "phone", "laptop"), Author(clock)
    original = alice.phone.post("to be deleted")
    forged = mallory.phone.delete(original)
    genuine = alice.laptop.delete(original)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, mallory)
        viewer = await make_local(database, alice)
        await admit(ingest, forged)
        await admit(ingest, genuine)
        await admit(ingest, original)
    assert await contents(database, original) == [None]
    assert await texts(database, viewer, clock) == []


async def test_a_delete_by_someone_else_does_not_keep_the_content_of_a_header_out(database, clock) -> None:
    alice, mallory = Author(clock), Author(clock)
    original = alice.phone.post("header first")
    forged = mallory.phone.delete(original)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, mallory)
        viewer = await make_local(database, alice)
        await admit(ingest, original.header_only, forged)
        await offer(ingest, original)
    assert await contents(database, original) == [original.content]
    assert await texts(database, viewer, clock) == ["header first"]


async def test_edits_that_arrive_around_a_delete_lose_their_content_too(database, clock) -> None:
    alice = Author(clock, "phone", "tablet", "laptop")
    original = alice.phone.post("secret")
    early_edit = alice.tablet.edit(original, "secret, edited", ts=clock.advance(1))
    delete = alice.laptop.delete(original, ts=clock.advance(1))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, early_edit)   # the edit, then the delete, then the post itself
        await admit(ingest, delete)
        await admit(ingest, original)
        late_edit = alice.tablet.edit(original, "secret, edited again", ts=clock.advance(1))
        await admit(ingest, late_edit)     # and an edit after it all
    assert await contents(database, original, early_edit, late_edit) == [None, None, None]
    assert await texts(database, viewer, clock) == []


async def test_deleting_an_edit_brings_back_the_version_before_it(database, clock) -> None:
    alice = Author(clock)
    original = alice.phone.post("v1")
    second = alice.phone.edit(original, "v2", ts=clock.advance(1))
    third = alice.phone.edit(original, "v3", ts=clock.advance(1))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, original, second, third)
        assert await texts(database, viewer, clock) == ["v3"]
        await admit(ingest, alice.phone.delete(third))
        assert await texts(database, viewer, clock) == ["v2"]
        await admit(ingest, alice.phone.delete(second))
    assert await texts(database, viewer, clock) == ["v1"]
    async with database.read() as conn:
        [post] = await queries.feed(conn, viewer, now_ms=clock())
    assert post.edited_ts is None


async def test_an_expired_post_disappears_from_view_before_it_is_purged(database, clock) -> None:
    alice = Author(clock)
    fleeting = alice.phone.post("for one minute", expires=clock() + 60_000)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, fleeting)
    assert await texts(database, viewer, clock) == ["for one minute"]
    clock.advance(60_000)
    assert await texts(database, viewer, clock) == []
    async with database.read() as conn:
        detail = await queries.entry_detail(conn, fleeting.id, now_ms=clock())
    assert (detail["post"]["deleted"], detail["post"]["text"]) == (True, None)


async def test_unknown_content_types_are_kept_and_change_no_view(database, clock) -> None:
    alice = Author(clock)
    poll = alice.phone.write({"type": "poll", "question": "tea or coffee?"})
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, poll)
    assert await contents(database, poll) == [poll.content]
    assert await texts(database, viewer, clock) == []
