"""The inbox queue (weft.federation.inbox_queue) on a served node, SQLite and PostgreSQL: a
202 means the activity is kept; the drainer maps what waits, in order where order matters,
tries again what failed, gives back what it held when it stops, and maps what an earlier
run left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from sqlalchemy import Connection, delete, select, update

from weft.federation import inbox_queue as queue_module
from weft.federation.activitystreams import ASObject
from weft.federation.inbound import Received
from weft.federation.inbox_queue import InboxQueue
from weft.store import inbox_queue as store
from weft.store.schema import inbox_queue

from ..conftest import SessionLoop
from ..web.site_server import sign_in
from .fediverse_fake import FakeActor
from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture

T = TypeVar("T")


def _queue(world: World) -> InboxQueue:
    assert world.node.site.federation is not None
    return world.node.site.federation.inbox_queue


async def _in_queue(world: World, work: Callable[[Connection], T]) -> T:
    """``work`` done in one transaction where the queue is kept."""
    return await (await _queue(world).kept()).transaction(work)


async def _rows(world: World) -> list[dict[str, Any]]:
    return await _in_queue(world, lambda conn: [dict(row._mapping) for row in
                                                conn.execute(select(inbox_queue).order_by(inbox_queue.c.id)).all()])


def _all_due(conn: Connection) -> None:
    conn.execute(update(inbox_queue).values(next_at=0))


@pytest.fixture(autouse=True)
def _empty_queue(world: World, runner: SessionLoop) -> Iterator[None]:
    """Each test starts from an empty queue, whatever the one before it left."""
    yield

    runner.run(_in_queue(world, lambda conn: conn.execute(delete(inbox_queue))))


@asynccontextmanager
async def _held_back(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[asyncio.Event]:
    """Mapping waits for the event (set it to let it go); deliveries are answered without
    waiting for their mapping."""
    gate = asyncio.Event()
    inbound = world.node.site.federation.inbound   # type: ignore[union-attr]
    receive = inbound.receive

    async def held(activity: ASObject, *, via: Any) -> Received:
        await gate.wait()
        return await receive(activity, via=via)

    monkeypatch.setattr(inbound, "receive", held)
    monkeypatch.setattr(world.remote, "weft_nodes", {})
    try:
        yield gate
    finally:
        gate.set()


def _create(world: World, actor: FakeActor, text: str) -> dict[str, Any]:
    return world.remote.create(actor, world.remote.note(actor, f"<p>{text}</p>", cc=[world.alice_iri]))


async def test_a_delivery_is_kept_before_it_is_answered_and_mapped_after(world: World,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()
    create = _create(world, bob, "kept first")
    async with _held_back(world, monkeypatch) as gate:
        assert (await world.remote.deliver(bob, world.inbox, create)).status_code == 202
        [row] = await _rows(world)
        assert orjson.loads(row["activity"]) == create and row["attempts"] == 0
        assert await world.posts_by(bob.iri) == []
        gate.set()
        await _queue(world).settled()
    assert len(await world.posts_by(bob.iri)) == 1
    assert await _rows(world) == []


async def test_activities_about_one_post_are_mapped_in_the_order_they_came(world: World,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bob, carol = world.actor(), world.actor()
    create = _create(world, bob, "soon gone")
    delete = world.remote.activity(bob, "Delete", {"id": create["object"]["id"], "type": "Tombstone"})
    other = _create(world, carol, "unrelated")
    async with _held_back(world, monkeypatch) as gate:
        for actor, activity in ((bob, create), (carol, other), (bob, delete)):
            assert (await world.remote.deliver(actor, world.inbox, activity)).status_code == 202
        assert len(await _rows(world)) == 3          # claimed together, once let go
        gate.set()
        await _queue(world).settled()
    assert [deleted for deleted, _ in await world.posts_by(bob.iri)] == [True]
    assert [deleted for deleted, _ in await world.posts_by(carol.iri)] == [False]


async def test_a_mapping_that_raises_is_tried_again_later(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()
    inbound = world.node.site.federation.inbound   # type: ignore[union-attr]
    receive, calls = inbound.receive, []

    async def failing_once(activity: ASObject, *, via: Any) -> Received:
        calls.append(activity.id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return await receive(activity, via=via)

    monkeypatch.setattr(inbound, "receive", failing_once)
    monkeypatch.setattr(world.remote, "weft_nodes", {})
    began = world.node.site.node.clock()
    assert (await world.remote.deliver(bob, world.inbox, _create(world, bob, "second time lucky"))).status_code == 202
    async with asyncio.timeout(10):
        while not (rows := await _rows(world)) or rows[0]["attempts"] == 0:
            await asyncio.sleep(0.02)
    [row] = rows
    assert row["last_error"] == "RuntimeError: the database went away" and row["failed_at"] is None
    assert row["next_at"] >= began + queue_module.RETRY_WAITS_MS[0]
    assert await world.posts_by(bob.iri) == []
    await _in_queue(world, _all_due)                # its time comes
    await _queue(world).settled()
    assert len(calls) == 2 and len(await world.posts_by(bob.iri)) == 1


async def test_an_activity_that_keeps_failing_is_kept_as_failed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()

    async def broken(activity: ASObject, *, via: Any) -> Received:
        raise RuntimeError("a bug")

    monkeypatch.setattr(world.node.site.federation.inbound, "receive", broken)   # type: ignore[union-attr]
    monkeypatch.setattr(world.remote, "weft_nodes", {})
    assert (await world.remote.deliver(bob, world.inbox, _create(world, bob, "never"))).status_code == 202
    async with asyncio.timeout(20):
        for attempts in range(1, len(queue_module.RETRY_WAITS_MS) + 1):
            while not (rows := await _rows(world)) or rows[0]["attempts"] < attempts:
                await asyncio.sleep(0.02)
            assert rows[0]["attempts"] == attempts and rows[0]["failed_at"] is None
            await _in_queue(world, _all_due)        # its next try is due (not while it is held)
        while (rows := await _rows(world))[0]["failed_at"] is None:
            await asyncio.sleep(0.02)
    assert rows[0]["attempts"] == len(queue_module.RETRY_WAITS_MS) + 1
    assert rows[0]["last_error"] == "RuntimeError: a bug"
    assert await _queue(world).counts() == {"waiting": 0, "failed": 1}
    await _queue(world).settled()      # a failed activity is not waited for
    assert await _in_queue(world, lambda conn: store.sweep_failed(conn, rows[0]["failed_at"] + 1)) == 1


async def test_stopping_gives_back_what_is_held_and_the_next_start_maps_it(world: World,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()
    queue = _queue(world)
    monkeypatch.setattr(queue_module, "STOP_GRACE_S", 0.1)
    async with _held_back(world, monkeypatch):
        assert (await world.remote.deliver(bob, world.inbox, _create(world, bob, "held at stop"))).status_code == 202
        while not queue._tasks:      # claimed, and waiting at the gate
            await asyncio.sleep(0.01)
        await queue.close()
        [row] = await _rows(world)
        assert row["next_at"] <= world.node.site.node.clock() and row["attempts"] == 0
    queue.start()                     # as `weft serve` does when it starts
    await queue.settled()
    assert len(await world.posts_by(bob.iri)) == 1


async def test_what_an_earlier_run_left_is_mapped(world: World) -> None:
    bob = world.actor()
    queue = _queue(world)
    await queue.close()
    left = [orjson.dumps(_create(world, bob, "left over"))]       # verified and kept by a run that stopped
    await _in_queue(world, lambda conn: store.add_activities(conn, left, world.node.site.node.clock()))
    queue.start()
    await queue.settled()
    assert len(await world.posts_by(bob.iri)) == 1


async def test_a_delivery_that_cannot_be_kept_is_answered_503(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()

    async def full(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(await _queue(world).kept(), "add", full)
    answer = await world.remote.deliver(bob, world.inbox, _create(world, bob, "nowhere to go"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    assert "send it again" in answer.json()["error"]
    monkeypatch.undo()
    assert await _rows(world) == []
    async with httpx.AsyncClient() as client:   # the node still serves
        assert (await client.get(f"{world.node.url}/api/health")).status_code == 200


async def test_administrators_see_how_the_queues_stand(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bob = world.actor()
    federation = world.node.site.federation
    assert federation is not None
    before = await federation.queues()
    await world.node.site.accounts.sign_up("root_user", "a fine password", admin=True, by_admin=True)
    async with world.node.client() as admin:
        assert (await sign_in(admin, "root_user", "a fine password")).status_code == 303
        async with _held_back(world, monkeypatch) as gate:
            assert (await world.remote.deliver(bob, world.inbox, _create(world, bob, "counted"))).status_code == 202
            assert (await federation.queues())["inbox_waiting"] == before["inbox_waiting"] + 1
            page = await admin.get("/admin")
            assert page.status_code == 200
            waiting = f"<th scope=\"row\">Received, not mapped yet</th><td>{before['inbox_waiting'] + 1}</td>"
            assert waiting in page.text
            gate.set()
            await _queue(world).settled()
        after = await admin.get("/admin")
        assert f"<th scope=\"row\">Received, not mapped yet</th><td>{before['inbox_waiting']}</td>" in after.text
    assert set(before) == {"inbox_waiting", "inbox_failed", "outbox_queued", "outbox_pending", "outbox_failed",
                           "hosts_down"}


async def test_what_cannot_be_read_is_dropped_and_the_rest_is_mapped(world: World) -> None:
    bob = world.actor()
    queue = _queue(world)
    await queue.close()
    garbage = [b"not json", b"[1, 2]", b'{"type": "Create", "actor": "https://x.example/u", "object": {"id": 7}}']
    good = orjson.dumps(_create(world, bob, "after the garbage"))
    await _in_queue(world, lambda conn: store.add_activities(conn, [*garbage, good], world.node.site.node.clock()))
    queue.start()
    await queue.settled()
    assert await _rows(world) == []          # dropped, not retried nor kept as failed
    assert len(await world.posts_by(bob.iri)) == 1
