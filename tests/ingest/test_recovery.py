"""Taking an identity back: a higher-ranked key undoes a lower-ranked key's operations for 72 hours."""

from __future__ import annotations

from sqlalchemy import select

from weft.core.identity import RECOVERY_WINDOW_MS
from weft.ingest import Ingest
from weft.store import queries
from weft.store.database import Database
from weft.store.schema import devices, entries, identity_ops

from ..store.world import Author, Device, admit, introduce, make_local, offer

HOUR_MS = 3600 * 1000


async def held_from(db: Database, device: Device) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(select(entries.c.seq).join(devices, devices.c.id == entries.c.device)
                                  .where(devices.c.key == device.did).order_by(entries.c.seq))
        return [seq for (seq,) in rows.all()]


async def intrusion(ingest: Ingest, db: Database, clock) -> tuple[Author, Device, int]:
    """The server's low-ranked key adds a device that then writes as alice and edits her post."""
    alice = Author(clock)
    original = alice.phone.post("my own words", ts=clock())
    await introduce(ingest, alice)
    viewer = await make_local(db, alice)
    await admit(ingest, original)
    intruder, added = alice.add_device("intruder", signer=alice.rotation)
    [result] = await ingest.identity_ops([added.raw])
    assert result.status == "stored"
    clock.advance(HOUR_MS)
    await admit(ingest, intruder.post("buy my coin"), intruder.edit(original, "words put in my mouth"),
                intruder.react("like", original))
    async with db.read() as conn:
        [shown_post] = [p for p in await queries.feed(conn, viewer, now_ms=clock()) if p.id == original.ref]
    assert (shown_post.text, shown_post.likes) == ("words put in my mouth", 1)
    return alice, intruder, viewer


async def test_the_recovery_key_undoes_a_device_added_within_the_window(database, clock) -> None:
    async with Ingest(database, clock) as ingest:
        alice, intruder, viewer = await intrusion(ingest, database, clock)
        clock.advance(RECOVERY_WINDOW_MS - 2 * HOUR_MS)
        genesis, added = alice.ops[0], alice.ops[1]
        recovery = alice.amend(alice.recovery, after=genesis)
        [result] = await ingest.identity_ops([recovery.raw])
        assert (result.status, result.superseded) == ("stored", 1), result
        assert await held_from(database, intruder) == []
        [later] = await offer(ingest, intruder.post("still here?"))
    assert (later.status, later.reason) == ("rejected", "unauthorized_device")
    async with database.read() as conn:
        shown = await queries.feed(conn, viewer, now_ms=clock())
        ops = {op_id: (position, by) for op_id, position, by in (await conn.execute(
            select(identity_ops.c.op_id, identity_ops.c.position, identity_ops.c.superseded_by))).all()}
    assert [(p.text, p.edited_ts, p.likes) for p in shown] == [("my own words", None, 0)]
    assert ops == {genesis.id: (0, None), added.id: (None, recovery.id), recovery.id: (1, None)}


async def test_after_the_window_the_recovery_key_cannot_rewrite_history(database, clock) -> None:
    async with Ingest(database, clock) as ingest:
        alice, intruder, _ = await intrusion(ingest, database, clock)
        clock.advance(RECOVERY_WINDOW_MS)  # 73 hours after the device was added
        recovery = alice.amend(alice.recovery, after=alice.ops[0])
        [result] = await ingest.identity_ops([recovery.raw])
    assert (result.status, result.reason) == ("rejected", "recovery_window_closed")
    assert result.message is not None and "72 hours" in result.message
    assert await held_from(database, intruder) == [1, 2, 3]


async def test_a_key_of_the_same_or_lower_rank_cannot_fork_the_log(database, clock) -> None:
    async with Ingest(database, clock) as ingest:
        alice, intruder, _ = await intrusion(ingest, database, clock)
        rival = alice.amend(alice.rotation, after=alice.ops[0])
        [result] = await ingest.identity_ops([rival.raw])
    assert (result.status, result.reason) == ("rejected", "fork_rejected")
    assert await held_from(database, intruder) == [1, 2, 3]


async def test_an_operation_replaced_within_the_same_batch_is_kept_as_evidence(database, clock) -> None:
    alice = Author(clock)
    genesis = alice.ops[0]
    _, added = alice.add_device("intruder", signer=alice.rotation)
    clock.advance(HOUR_MS)
    recovery = alice.amend(alice.recovery, after=genesis)
    async with Ingest(database, clock) as ingest:
        results = await ingest.identity_ops([genesis.raw, added.raw, recovery.raw])
    assert [(r.status, r.superseded) for r in results] == [("stored", 0), ("stored", 0), ("stored", 1)]
    async with database.read() as conn:
        ops = {op_id: (position, by) for op_id, position, by in (await conn.execute(
            select(identity_ops.c.op_id, identity_ops.c.position, identity_ops.c.superseded_by))).all()}
    assert ops == {genesis.id: (0, None), added.id: (None, recovery.id), recovery.id: (1, None)}
