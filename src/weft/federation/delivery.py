"""Delivering what the outbox made: claim due deliveries, POST them signed, settle the rows.

A :class:`Deliverer` keeps up to ``concurrency`` deliveries in flight, at most ``per_host``
to one host (the FetchClient's own per-host slots bound the whole process on top of that).
Claimed rows are leased (their ``next_at`` moves ``LEASE_MS`` ahead), so a worker killed
while delivering leaves them due again once the lease ends: work is redone, never lost.
Outcomes are settled in batches, one transaction for all that finished meanwhile, by the
rules of weft.federation.delivery_policy (backoff, giving up, 410, the circuit breaker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as random_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncConnection

from weft.federation.actor_keys import ActorKeys
from weft.federation.delivery_policy import (
    GIVE_UP_AFTER_MS,
    Health,
    after_failure,
    counts_against_host,
    retry_wait_ms,
    verdict,
)
from weft.federation.fetching import FetchClient
from weft.federation.fetching_errors import FetchError
from weft.federation.urls import key_id
from weft.store import outbox as store
from weft.store.database import Database

__all__ = ["LEASE_MS", "Deliverer"]

log = logging.getLogger("weft.federation.delivery")

LEASE_MS: Final = 5 * 60_000          # well past the FetchClient's 30 s for a whole exchange
POLL_S: Final = 1.0                   # how soon retries that fell due are seen when idle
SETTLE_PAUSE_S: Final = 0.05          # lets a few more finish, so one transaction settles them
STOP_GRACE_S: Final = 10.0
ERROR_PAUSE_S: Final = 5.0


@dataclass(frozen=True)
class _Attempt:
    row: store.ClaimedDelivery
    error: FetchError | None
    trouble: str | None = None        # our own failure (the key): the remote was not asked


class Deliverer:
    """Claims and delivers due deliveries; ``deliver_due`` for one round, ``run`` for ever."""

    def __init__(self, db: Database, keys: ActorKeys, client: FetchClient, clock: Callable[[], int], *,
                 concurrency: int = 64, per_host: int = 4, lease_ms: int = LEASE_MS,
                 random: Callable[[], float] = random_module.random) -> None:
        self.db = db
        self.keys = keys
        self.client = client
        self.clock = clock
        self.concurrency = concurrency
        self.per_host = per_host
        self.lease_ms = lease_ms
        self.random = random
        self._in_flight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished: list[_Attempt] = []
        self._kick = asyncio.Event()
        self._cancelling = False          # set when this deliverer cancels its own tasks

    def wake(self) -> None:
        """New deliveries may be due (the expander made some)."""
        self._kick.set()

    async def deliver_due(self) -> int:
        """One round: claim what is due (as much as the limits allow), deliver it, settle it.
        Returns how many were attempted."""
        claimed = await self._claim(self.concurrency)
        attempts = await asyncio.gather(*(self._attempt(row) for row in claimed))
        await self._settle(list(attempts))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; then let what is in flight finish (for a while).
        Cancelled, it drops what is in flight: the leases bring it back."""
        try:
            while not stop.is_set():
                self._kick.clear()
                try:
                    free = self.concurrency - len(self._tasks)
                    claimed = await self._claim(free) if free > 0 else []
                    for row in claimed:
                        self._start(row)
                    if self._finished:
                        await self._settle_finished()
                except Exception:    # the database is away, or worse: what is claimed is leased
                    # Never end the loop: a deliverer that stopped would leave what it delivered
                    # unsettled until its leases ran out, and claim nothing more.
                    log.exception("claiming or settling deliveries failed; trying again in %d s", ERROR_PAUSE_S)
                    await asyncio.sleep(ERROR_PAUSE_S)
                    continue
                if claimed and len(self._tasks) < self.concurrency:
                    continue                    # there may be more due
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_S):
                        await self._kick.wait()
                if self._tasks and not stop.is_set():
                    await asyncio.sleep(SETTLE_PAUSE_S)
        except asyncio.CancelledError:
            self._cancelling = True
            for task in self._tasks:
                task.cancel()
            raise
        await self._wind_down()

    async def _wind_down(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_S)
            self._cancelling = True
            for task in pending:                # their leases bring them back to the next worker
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._finished:
            await self._settle_finished()

    def _start(self, row: store.ClaimedDelivery) -> None:
        self._in_flight[row.host] = self._in_flight.get(row.host, 0) + 1

        async def deliver() -> None:
            try:
                attempt = await self._attempt(row)
            except Exception as error:
                # Not the remote's answer (that is a FetchError, in the attempt): our own bug or
                # trouble. Settled as trouble, so that it is tried again soon rather than when
                # the lease runs out.
                log.exception("delivering %d to %s failed", row.id, row.inbox)
                self._finished.append(_Attempt(row, None, trouble=f"{type(error).__name__}: {error}"))
            except asyncio.CancelledError:
                if self._cancelling:
                    raise
                # Cancelled by nobody here (a library's stray cancellation, should one ever get
                # out): the task is ours and must settle its row, or the row waits out its lease.
                log.warning("delivering %d to %s was cancelled from within; it is tried again", row.id, row.inbox)
                self._finished.append(_Attempt(row, None, trouble="the delivery was cancelled from within"))
            else:
                # Not ``self._finished.append(await ...)``: that looks the list up before the
                # await, and an append to a list settled meanwhile is never settled.
                self._finished.append(attempt)
            finally:
                left = self._in_flight[row.host] - 1
                if left:
                    self._in_flight[row.host] = left
                else:
                    del self._in_flight[row.host]
                self._kick.set()

        task = asyncio.create_task(deliver(), name=f"weft-deliver-{row.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle_finished(self) -> None:
        # Emptied in place, never replaced: one list, so no task can hold on to a stale one.
        finished = self._finished.copy()
        self._finished.clear()
        try:
            await self._settle(finished)
        except BaseException:
            self._finished[:0] = finished     # not settled: tried again with the next ones
            raise

    async def _claim(self, limit: int) -> list[store.ClaimedDelivery]:
        if limit <= 0:
            return []
        room = {host: self.per_host - count for host, count in self._in_flight.items()}
        async with self.db.write() as conn:
            return await store.claim_deliveries(conn, self.clock(), room, limit=limit, per_host=self.per_host,
                                                lease_ms=self.lease_ms)

    async def _attempt(self, row: store.ClaimedDelivery) -> _Attempt:
        try:
            key = await self.keys.key(row.actor_identity)
        except Exception as error:
            log.exception("cannot load the key of identity row %d to deliver %d", row.actor_identity, row.id)
            return _Attempt(row, None, trouble=f"cannot load the actor's key: {error}")
        try:
            await self.client.deliver(row.inbox, row.body, signer=key.signer(key_id(row.actor), self.clock))
        except FetchError as error:
            return _Attempt(row, error)
        return _Attempt(row, None)

    async def _settle(self, attempts: Sequence[_Attempt]) -> None:
        if not attempts:
            return
        now = self.clock()
        done: list[int] = []
        gone: list[int] = []
        failed: dict[int, str] = {}
        retries: list[store.Retry] = []
        hosts: dict[str, list[tuple[bool, str | None]]] = {}    # host -> (answered?, error) in order
        for attempt in attempts:
            row, error = attempt.row, attempt.error
            if attempt.trouble is not None:
                wait = retry_wait_ms(1, self.random())
                if now + wait - row.created_at > GIVE_UP_AFTER_MS:
                    failed[row.id] = attempt.trouble
                else:
                    retries.append(store.Retry(row.id, now + wait, attempt.trouble, counted=False))
                continue
            outcome = verdict(error)
            if outcome == "done":
                done.append(row.id)
            elif outcome == "gone":
                gone.append(row.id)
            elif outcome == "failed" or error is None:
                failed[row.id] = str(error)
            else:
                wait = retry_wait_ms(row.attempts + 1, self.random(), error.retry_after)
                if now + wait - row.created_at > GIVE_UP_AFTER_MS:
                    failed[row.id] = f"gave up after {row.attempts + 1} attempts: {error}"
                else:
                    retries.append(store.Retry(row.id, now + wait, str(error)))
            if error is None or error.status is not None:
                hosts.setdefault(row.host, []).append((error is None or not counts_against_host(error),
                                                       None if error is None else str(error)))
            elif counts_against_host(error):
                hosts.setdefault(row.host, []).append((False, str(error)))
        async with self.db.write() as conn:
            await store.finish_deliveries(conn, done, "done", now)
            await store.finish_deliveries(conn, gone, "gone", now, {i: "410 Gone" for i in gone})
            await store.finish_deliveries(conn, sorted(failed), "failed", now, failed)
            await store.retry_deliveries(conn, retries)
            await self._judge_hosts(conn, hosts, now)

    async def _judge_hosts(self, conn: AsyncConnection, outcomes: dict[str, list[tuple[bool, str | None]]],
                           now: int) -> None:
        stored = await store.host_health(conn, outcomes)
        changed: dict[str, store.HostHealth] = {}
        for host, results in outcomes.items():
            before = stored.get(host)
            health = Health(before.failures, before.trips, before.down_until) if before else Health()
            last_error = before.last_error if before else None
            for answered, error in results:
                if answered:
                    health, last_error = Health(), None
                else:
                    tripped = health.down_until
                    health, last_error = after_failure(health, now), error
                    if health.down_until != tripped:
                        log.warning("%s failed %d times in a row: no deliveries to it for %d s (%s)", host,
                                    health.failures, (health.down_until - now) // 1000, error)
            if before is not None or health.failures:
                changed[host] = store.HostHealth(health.failures, health.trips, health.down_until, last_error)
        await store.save_hosts(conn, changed)
