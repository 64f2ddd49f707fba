"""A running deliverer settles every delivery it made, also one that was still in flight
while the deliverer settled others (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.conftest import FakeClock
from weft.federation.fetching import FetchClient, Signer

from .outbox_world import LOCAL, World, inboxes, loopback, world


class HeldClient(FetchClient):
    """Delivers on loopback, but holds deliveries to ``held_host`` until ``release`` is set."""

    def __init__(self, held_host: str) -> None:
        super().__init__(LOCAL, resolver=loopback)
        self.held_host = held_host
        self.release = asyncio.Event()
        self.holding = 0

    async def deliver(self, inbox: str, body: bytes, *, signer: Signer | None = None,
                      content_type: str = "application/activity+json") -> int:
        if f"//{self.held_host}:" in inbox:
            self.holding += 1
            await self.release.wait()
        return await super().deliver(inbox, body, signer=signer, content_type=content_type)


async def states(w: World) -> dict[str, str]:
    return {str(d["host"]).split(":")[0]: str(d["state"]) for d in await w.deliveries()}


async def wait_for(w: World, wanted: dict[str, str], seconds: float = 5) -> dict[str, str]:
    """The deliveries' states once they are ``wanted``, or as they are after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (found := await states(w)) != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return found


async def test_a_delivery_still_in_flight_while_others_are_settled_is_settled_when_it_ends(any_config: Any) -> None:
    clock = FakeClock()
    client = HeldClient("slow.example")
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, client:
        await w.trust_alice(boxes)
        for host in ("fast.example", "slow.example"):
            await w.follower("p", host, boxes)
        await w.expand()                            # the sign-up's profile Update, to each host
        stop = asyncio.Event()
        running = asyncio.create_task(w.deliverer(client).run(stop))
        try:
            # Both are claimed in one round; the fast one is settled while the slow one is held.
            assert await wait_for(w, {"fast.example": "done", "slow.example": "pending"}) == {
                "fast.example": "done", "slow.example": "pending"}
            assert client.holding == 1
            client.release.set()
            # Settled by the running loop (it looks every second), not only when it stops.
            assert await wait_for(w, {"fast.example": "done", "slow.example": "done"}) == {
                "fast.example": "done", "slow.example": "done"}
        finally:
            stop.set()
            client.release.set()
            await running
        assert sorted(r.host for r in boxes.received) == ["fast.example", "slow.example"]
