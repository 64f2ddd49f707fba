"""Delivering the outbox to real inboxes on loopback: signed POSTs, retries with backoff on a
moved clock, 410 and other refusals, the circuit breaker, leases that outlive a dead worker,
and two workers sharing PostgreSQL (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import FakeClock
from weft.config import NodeConfig
from weft.federation.delivery import LEASE_MS
from weft.federation.delivery_policy import BREAKER_THRESHOLD, GIVE_UP_AFTER_MS
from weft.federation.urls import actor_url, key_id
from weft.store import outbox as store
from weft.store.schema import federation_hosts

from .outbox_world import Inboxes, World, inboxes, loopback_client, world

ALICE_KEY = key_id(actor_url("https://weft.test", "alice"))
SECOND = 1000


async def ready(w: World, boxes: Inboxes, hosts: dict[str, int]) -> None:
    """Followers on ``hosts`` (host -> how many, all through its shared inbox), the sign-up's
    profile expanded and delivered nowhere yet."""
    await w.trust_alice(boxes)
    for host, many in hosts.items():
        for index in range(many):
            await w.follower(f"p{index}", host, boxes)


async def host_rows(w: World) -> dict[str, tuple[int, int, int]]:
    async with w.db.read() as conn:
        rows = await conn.execute(select(federation_hosts.c.host, federation_hosts.c.failures,
                                         federation_hosts.c.trips, federation_hosts.c.down_until))
        return {str(h).split(":")[0]: (f, t, d) for h, f, t, d in rows.all()}


async def test_each_inbox_gets_the_activity_once_signed_by_its_author(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 3, "b.example": 1})
        await w.post("hello")
        await w.expand()
        deliverer = w.deliverer(client)
        assert await deliverer.deliver_due() == 4       # the profile's Update and the post's Create, twice
        assert await deliverer.deliver_due() == 0
        assert sorted((r.host, r.activity["type"]) for r in boxes.received) == [
            ("a.example", "Create"), ("a.example", "Update"), ("b.example", "Create"), ("b.example", "Update")]
        assert {r.signed_by for r in boxes.received} == {ALICE_KEY}
        create = next(r.activity for r in boxes.received if r.activity["type"] == "Create")
        assert create["object"]["content"] == "<p>hello</p>"
        assert (await w.counts())["done"] == 4


async def test_a_failing_host_is_retried_with_backoff_until_it_recovers(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 1})
        await w.expand()
        deliverer = w.deliverer(client)
        boxes.answers["a.example"] = 500
        waits = []
        for _ in range(3):
            start = clock()
            assert await deliverer.deliver_due() == 1
            [row] = await w.deliveries()
            waits.append(row["next_at"] - start)
            assert await deliverer.deliver_due() == 0          # not before its time
            clock.advance(waits[-1])
        assert waits == [30 * SECOND, 60 * SECOND, 120 * SECOND]   # random 0: no jitter taken off
        assert row["attempts"] == 3 and "500" in row["last_error"]
        boxes.answers["a.example"] = 503
        boxes.retry_after["a.example"] = "3600"                # Retry-After beats the backoff
        await deliverer.deliver_due()
        [row] = await w.deliveries()
        assert row["next_at"] - clock() == 3600 * SECOND
        clock.advance(3600 * SECOND)
        del boxes.answers["a.example"]
        assert await deliverer.deliver_due() == 1
        [row] = await w.deliveries()
        assert (row["state"], row["attempts"]) == ("done", 5)
        assert len(boxes.received) == 1 and len(boxes.refused) == 4
        assert await host_rows(w) == {}                          # healthy again


async def test_410_ends_a_delivery_and_other_refusals_fail_it_at_once(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"gone.example": 1, "no.example": 1, "busy.example": 1})
        await w.expand()
        boxes.answers.update({"gone.example": 410, "no.example": 403, "busy.example": 429})
        deliverer = w.deliverer(client)
        assert await deliverer.deliver_due() == 3
        states = {d["host"].split(":")[0]: d["state"] for d in await w.deliveries()}
        assert states == {"gone.example": "gone", "no.example": "failed", "busy.example": "pending"}
        clock.advance(GIVE_UP_AFTER_MS)
        assert await deliverer.deliver_due() == 1              # only the one worth trying again
        assert await host_rows(w) == {}                        # answering "no" is not being down


async def test_a_host_that_keeps_failing_trips_the_breaker_and_its_deliveries_wait(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"down.example": 1, "up.example": 1})
        for index in range(BREAKER_THRESHOLD):
            await w.post(f"post {index}")
        await w.expand()
        boxes.answers["down.example"] = 502
        deliverer = w.deliverer(client, per_host=BREAKER_THRESHOLD + 1)
        assert await deliverer.deliver_due() == 2 * (BREAKER_THRESHOLD + 1)
        failures, trips, down_until = (await host_rows(w))["down.example"]
        assert (failures, trips, down_until) == (BREAKER_THRESHOLD + 1, 1, clock() + 60 * SECOND)
        clock.advance(30 * SECOND)          # the retries are due, the host is not
        assert await deliverer.deliver_due() == 0
        attempts = {d["attempts"] for d in await w.deliveries() if d["host"].startswith("down.")}
        assert attempts == {1}              # waiting for a host costs no attempt
        clock.advance(31 * SECOND)          # down for a minute; it fails again: two minutes
        assert await deliverer.deliver_due() == BREAKER_THRESHOLD + 1
        assert (await host_rows(w))["down.example"][1:] == (2, clock() + 120 * SECOND)
        clock.advance(121 * SECOND)
        del boxes.answers["down.example"]
        assert await deliverer.deliver_due() == BREAKER_THRESHOLD + 1
        assert await host_rows(w) == {}
        assert (await w.counts())["done"] == 2 * (BREAKER_THRESHOLD + 1)


async def test_a_delivery_that_never_succeeds_fails_after_two_days(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 1})
        await w.expand()
        boxes.answers["a.example"] = 500
        deliverer = w.deliverer(client)
        made = clock()
        while (row := (await w.deliveries())[0])["state"] == "pending":
            assert clock() - made <= GIVE_UP_AFTER_MS
            clock.advance(max(row["next_at"], *(await host_rows(w)).get("a.example", (0, 0, 0))[2:]) - clock())
            assert await deliverer.deliver_due() == 1
        assert row["state"] == "failed" and row["last_error"].startswith("gave up after")
        assert GIVE_UP_AFTER_MS - 6 * 3_600 * SECOND < row["finished_at"] - made <= GIVE_UP_AFTER_MS
        assert 12 <= row["attempts"] <= 20


async def test_a_worker_that_dies_holding_deliveries_leaves_them_to_the_next(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 1, "b.example": 1})
        await w.expand()
        boxes.gate = gate = asyncio.Event()       # the inbox answers nothing until the worker is dead
        stop = asyncio.Event()
        doomed = asyncio.create_task(w.deliverer(client).run(stop))
        while len([d for d in await w.deliveries() if d["next_at"] > clock()]) < 2:
            await asyncio.sleep(0.02)             # both claimed
        doomed.cancel()                           # killed: nothing settles
        await asyncio.gather(doomed, return_exceptions=True)
        gate.set()
        boxes.gate = None
        other = w.deliverer(client)
        assert await other.deliver_due() == 0     # still leased
        clock.advance(LEASE_MS)
        assert await other.deliver_due() == 2
        assert (await w.counts())["done"] == 2


async def test_a_running_worker_delivers_new_posts_and_stops_cleanly(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 2, "b.example": 1})
        w.federation.outbox.start(client=client)
        await w.post("live")
        for _ in range(300):
            if len(boxes.received) == 4:
                break
            await asyncio.sleep(0.02)
        await w.federation.outbox.stop()
        assert sorted((r.host, r.activity["type"]) for r in boxes.received) == [
            ("a.example", "Create"), ("a.example", "Update"), ("b.example", "Create"), ("b.example", "Update")]
        assert not w.federation.outbox.running


async def test_settled_deliveries_are_forgotten_after_a_while(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await ready(w, boxes, {"a.example": 1, "f.example": 1})
        await w.expand()
        boxes.answers["f.example"] = 400
        await w.deliverer(client).deliver_due()
        clock.advance(2 * 86_400 * SECOND)
        async with w.db.write() as conn:
            assert await store.sweep_finished(conn, done_before=clock() - 86_400 * SECOND,
                                              failed_before=clock() - 7 * 86_400 * SECOND) == 1
        assert [d["state"] for d in await w.deliveries()] == ["failed"]


@pytest.mark.backends("postgresql")
async def test_two_workers_on_postgresql_never_deliver_a_row_twice(database: Any, postgres_url: str,
                                                                  tmp_path: Any) -> None:
    clock = FakeClock()
    config = NodeConfig(tmp_path / "n", f"{postgres_url}?schema={database.schema}")
    async with inboxes(clock) as boxes, world(config, clock) as w, \
            loopback_client() as one, loopback_client() as two:
        await ready(w, boxes, {f"h{index}.example": 1 for index in range(12)})
        for index in range(9):
            await w.post(f"post {index}")
        await w.expand()
        first, second = w.deliverer(one, concurrency=7), w.deliverer(two, concurrency=5)

        async def drain(worker: Any) -> int:
            total = 0
            while made := await worker.deliver_due():
                total += made
            return total

        shares = await asyncio.gather(drain(first), drain(second))
        assert sum(shares) == 12 * 10 and all(shares), (shares, await w.counts(), len(boxes.refused))
        seen = [(r.host, r.body) for r in boxes.received]
        assert len(seen) == len(set(seen)) == 12 * 10
