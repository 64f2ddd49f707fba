"""What the one door stores: logs in order, duplicates as no-ops, headers before content."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from weft.ingest import Ingest, Offer
from weft.store import queries
from weft.store.database import Database
from weft.store.entries import device_heads, log_range
from weft.store.schema import (
    deletions,
    devices,
    edits,
    entries,
    identities,
    identity_ops,
    metadata,
    posts,
    reactions,
)

from ..store.world import Author, admit, introduce, make_local, offer


async def snapshot(db: Database) -> dict[str, list[Any]]:
    """Every row of every table, to compare the store before and after."""
    tables = {}
    async with db.read() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def content_of(db: Database, entry_id: bytes) -> bytes | None:
    async with db.read() as conn:
        return (await conn.execute(select(entries.c.content)
                                   .where(entries.c.entry_id == entry_id))).scalar_one()


async def test_an_identity_log_then_its_entries_are_stored_in_order(database, clock) -> None:
    alice = Author(clock, "phone")
    posts_written = [alice.phone.post(f"post {n}") for n in range(1, 6)]
    async with Ingest(database, clock) as ingest:
        results = await ingest.identity_ops([op.raw for op in alice.ops])
        assert [(r.status, r.did) for r in results] == [("stored", alice.did)]
        outcomes = await ingest.entries([p.offer for p in posts_written])
    assert [(o.status, o.entry_id) for o in outcomes] == [("stored", p.id) for p in posts_written]
    async with database.read() as conn:
        held = await log_range(conn, alice.phone.did, 0, 100, now_ms=clock())
        head = (await device_heads(conn, [alice.phone.did]))[alice.phone.did]
        ops_held = (await conn.execute(select(func.count()).select_from(identity_ops))).scalar_one()
    assert held == [(p.entry.raw, p.content) for p in posts_written]
    assert (head.head_seq, head.head_id) == (5, posts_written[-1].id)
    assert ops_held == 1


async def test_the_same_batch_twice_changes_nothing(database, clock) -> None:
    alice, bob = Author(clock, "phone", "laptop"), Author(clock)
    first = alice.phone.post("first")
    batch = [first, alice.laptop.edit(first, "first, edited"), bob.phone.react("like", first),
             bob.phone.relate("follow", alice), alice.phone.delete(first), alice.phone.post("second")]
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, *batch)
        before = await snapshot(database)
        again = await offer(ingest, *batch)
        ops_again = await ingest.identity_ops([op.raw for op in (*alice.ops, *bob.ops)])
    assert [(o.status, o.entry_id) for o in again] == [("duplicate", s.id) for s in batch]
    assert {r.status for r in ops_again} == {"duplicate"}
    assert await snapshot(database) == before


async def test_a_header_alone_is_stored_and_its_content_filled_by_a_later_offer(database, clock) -> None:
    alice = Author(clock)
    greeting = alice.phone.post("greetings from a header")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, greeting.header_only)
        assert await content_of(database, greeting.id) is None
        async with database.read() as conn:
            assert await queries.feed(conn, viewer, now_ms=clock()) == []
        [outcome] = await offer(ingest, greeting)
    assert (outcome.status, outcome.entry_id) == ("duplicate", greeting.id)
    assert await content_of(database, greeting.id) == greeting.content
    async with database.read() as conn:
        shown = await queries.feed(conn, viewer, now_ms=clock())
    assert [p.text for p in shown] == ["greetings from a header"]


async def test_a_header_and_its_content_in_the_same_batch_end_with_the_content(database, clock) -> None:
    alice = Author(clock)
    greeting = alice.phone.post("both offers at once")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        outcomes = await offer(ingest, greeting.header_only, greeting)
    assert [o.status for o in outcomes] == ["stored", "duplicate"]
    assert await content_of(database, greeting.id) == greeting.content
    async with database.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(posts))).scalar_one() == 1


async def test_a_delete_from_another_device_arriving_first_keeps_the_target_content_out(
        database, clock) -> None:
    alice = Author(clock, "phone", "laptop")
    secret = alice.phone.post("regrettable")
    delete = alice.laptop.delete(secret)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, delete)
        await admit(ingest, secret)
        assert await content_of(database, secret.id) is None
        [again] = await offer(ingest, secret)  # a peer offering the content again changes nothing
        assert again.status == "duplicate"
    assert await content_of(database, secret.id) is None
    async with database.read() as conn:
        assert await queries.feed(conn, viewer, now_ms=clock()) == []
        held = (await conn.execute(select(deletions.c.target))).scalars().all()
    assert held == [secret.id]


async def test_an_edit_arriving_before_its_target_applies_when_the_target_comes(database, clock) -> None:
    alice = Author(clock, "phone", "laptop")
    original = alice.phone.post("helo", ts=clock())
    fixed = alice.laptop.edit(original, "hello", ts=clock.advance(1000))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, fixed)
        await admit(ingest, original)
    async with database.read() as conn:
        [shown] = await queries.feed(conn, viewer, now_ms=clock())
        held_edits = (await conn.execute(select(edits.c.target))).scalars().all()
    assert (shown.text, shown.edited_ts) == ("hello", fixed.entry.ts)
    assert held_edits == [original.id]


async def test_an_entry_expired_on_arrival_is_stored_without_content(database, clock) -> None:
    alice = Author(clock)
    fleeting = alice.phone.post("gone soon", expires=clock() + 60_000)
    after = alice.phone.post("still here")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        clock.advance(60_000)
        await admit(ingest, fleeting, after)
    assert await content_of(database, fleeting.id) is None
    assert await content_of(database, after.id) == after.content
    async with database.read() as conn:
        assert [p.text for p in await queries.feed(conn, viewer, now_ms=clock())] == ["still here"]


async def test_concurrent_callers_share_one_transaction_and_each_hears_its_own_outcomes(
        database, clock) -> None:
    authors = [Author(clock) for _ in range(6)]
    batches = [[author.phone.post(f"{n}.{i}") for i in range(1, 41)] for n, author in enumerate(authors)]
    broken = authors[0].phone.post("gap")  # written but never offered: the next one leaves a gap
    gap = authors[0].phone.post("after the gap")
    batches[0].append(gap)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, *authors)
        # Hold the writer until every caller has queued its batch, to see them grouped.
        gate, groups = asyncio.Event(), []
        run = ingest._run

        async def gated(jobs: list[Any]) -> Any:
            groups.append(len(jobs))
            await gate.wait()
            return await run(jobs)

        ingest._run = gated  # type: ignore[method-assign]
        calls = [asyncio.ensure_future(ingest.entries([s.offer for s in batch])) for batch in batches]
        while ingest._queue.qsize() + sum(groups) < len(batches):
            await asyncio.sleep(0.01)
        gate.set()
        results = await asyncio.gather(*calls)
    assert sum(groups) == len(batches) and len(groups) <= 2  # at most: the first, then the rest
    for batch, outcomes in zip(batches, results, strict=True):
        assert [o.entry_id for o in outcomes] == [s.id for s in batch]
    assert {o.status for o in results[0][:-1]} == {"stored"}
    assert (results[0][-1].status, results[0][-1].reason) == ("rejected", "gap")
    assert all({o.status for o in outcomes} == {"stored"} for outcomes in results[1:])
    assert broken.id not in {o.entry_id for outcomes in results for o in outcomes}
    async with database.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(entries))).scalar_one()
        heads = (await conn.execute(select(func.sum(devices.c.head_seq)))).scalar_one()
        people = (await conn.execute(select(func.count()).select_from(identities))).scalar_one()
        likes = (await conn.execute(select(func.count()).select_from(reactions))).scalar_one()
    assert count == heads == 6 * 40
    assert (people, likes) == (6, 0)


async def test_overlapping_calls_with_consecutive_parts_of_a_log_are_written_in_the_order_offered(
        database, clock) -> None:
    alice = Author(clock)
    log = [alice.phone.post(f"post {n}") for n in range(1, 603)]
    async with Ingest(database, clock, chunk=8) as ingest:
        await introduce(ingest, alice)
        # The second call is tiny, so it is verified long before the first: handed to the
        # writer first, its entries would leave a gap and be refused.
        first = asyncio.ensure_future(ingest.entries([s.offer for s in log[:600]]))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(ingest.entries([s.offer for s in log[600:]]))
        results = await asyncio.gather(first, second)
    assert [o.status for outcomes in results for o in outcomes] == ["stored"] * len(log)
    async with database.read() as conn:
        [head] = (await device_heads(conn, [alice.phone.did])).values()
    assert head.head_seq == len(log)


async def test_offers_of_nothing_are_answered_with_nothing(database, clock) -> None:
    async with Ingest(database, clock) as ingest:
        assert await ingest.entries([]) == []
        assert await ingest.entries([Offer(b"{}", None)]) != []


async def test_a_watcher_hears_of_every_commit_merged_into_one_notice(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    posts_a = [alice.phone.post(f"a{n}") for n in range(3)]
    posts_b = [bob.phone.post(f"b{n}") for n in range(2)]
    async with Ingest(database, clock) as ingest:
        with ingest.changes() as changes:
            await introduce(ingest, alice, bob)
            await admit(ingest, *posts_a[:2])
            await admit(ingest, posts_a[2], *posts_b)
            await offer(ingest, posts_a[0])  # a duplicate commits nothing new
            notice = await asyncio.wait_for(changes.next(), 1)
            assert notice.identities == {alice.did, bob.did}
            assert notice.heads == {alice.phone.did: 3, bob.phone.did: 2}
            await offer(ingest, posts_a[0])  # a duplicate: no new head (at most an empty notice,
            await admit(ingest, bob.phone.post("b2"))  # from the watch on other writers)
            notice = await asyncio.wait_for(changes.next(), 1)
            while not notice.heads:
                notice = await asyncio.wait_for(changes.next(), 1)
            assert notice.heads == {bob.phone.did: 3}
        assert not ingest._watchers


async def test_a_watcher_hears_of_commits_by_another_process_too(database, clock) -> None:
    # Another Ingest on the same database stands for another process (weft post beside weft serve).
    alice = Author(clock)
    async with Ingest(database, clock) as here, Ingest(database, clock) as elsewhere:
        await introduce(elsewhere, alice)
        with here.changes() as changes:
            await asyncio.sleep(0.05)  # the watcher has read where the database stands
            await admit(elsewhere, alice.phone.post("written elsewhere"))
            await asyncio.wait_for(changes.next(), 2)
