"""From queued entries to deliveries: each queue row becomes its activity, once, and one
delivery per inbox that must receive it. A row may name a report to forward instead of an
entry: it becomes a Flag from the instance actor (weft.federation.outbound_flag).

Ingest queues a hosted person's entries that federate in the transaction that stores them
(weft.store.outbox). Here a worker claims a batch of queue rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so workers in several processes share the queue), asks the outbound mapping
for each entry's activity, expands its audience to inboxes, and inserts the deliveries and
removes the rows in that same transaction: a worker that dies half way leaves the rows to
the next one, and a row is never expanded twice.

The audience's inboxes: the author's remote followers (their shared inbox when they have
one, so that a server of a thousand followers gets one delivery), and each person named by
IRI; never a server this one suspended (a domain block). A person whose actor this node
does not hold yet is fetched first, outside the transaction (the row waits in the queue
meanwhile); one that cannot be fetched is left out, with a warning, after one try in
``RESOLVE_AGAIN_AFTER_MS``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.errors import WeftError
from weft.federation.outbound import OutboundActivity, load_activity
from weft.federation.outbound_flag import load_flag
from weft.federation.urls import local_ref
from weft.store import moderation
from weft.store import outbox as store
from weft.store.database import Database

__all__ = ["ActivityLoader", "ActorResolver", "Expander"]

log = logging.getLogger("weft.federation.outbox")

BATCH: Final = 64
RESOLVE_AGAIN_AFTER_MS: Final = 10 * 60_000


ActivityLoader = Callable[[AsyncConnection, str, int], Awaitable[OutboundActivity | None]]
"""(connection, base URL, entry row) -> the entry's activity, or None if it does not federate:
weft.federation.outbound.load_activity, unless a test names another."""

ActorResolver = Callable[[str], Awaitable[object]]
"""Fetches and stores the remote actor of an IRI (raising if it cannot)."""


class Expander:
    """Turns queue rows into deliveries; see the module docstring."""

    def __init__(self, db: Database, base_url: str, clock: Callable[[], int], *,
                 load: ActivityLoader = load_activity, resolve: ActorResolver | None = None) -> None:
        self.db = db
        self.base_url = base_url
        self.load = load
        self.clock = clock
        self.resolve = resolve
        self._tried: dict[str, int] = {}     # actor IRI -> when fetching it last failed

    async def expand_once(self, limit: int = BATCH) -> int:
        """Expand up to ``limit`` queue rows; the number looked at (0: the queue is empty)."""
        unknown: set[str] = set()
        # A read first: the claim is a write transaction, and it is woken by every commit
        # (on SQLite, the writer another process's ingest is waiting for).
        async with self.db.read() as conn:
            if not await store.queue_holds_any(conn):
                return 0
        async with self.db.write() as conn:
            now = self.clock()
            claimed = await store.claim_queue(conn, limit)
            suspended = {block.domain for block in await moderation.domain_block_list(conn)
                         if block.severity == "suspend"} if claimed else set()
            done: list[int] = []
            deliveries: list[dict[str, Any]] = []
            for row in claimed:
                try:
                    if row.entry is not None:
                        outbound = await self.load(conn, self.base_url, row.entry)
                    else:
                        outbound = await load_flag(conn, self.base_url, row.report) if row.report is not None else None
                except (SQLAlchemyError, OSError):
                    raise                       # the transaction is lost: the rows wait for the next try
                except Exception:
                    log.exception("cannot make the activity of %s; it is not delivered", _named(row))
                    done.append(row.id)
                    continue
                if outbound is not None:
                    made = await self._deliveries(conn, row.entry, outbound, now, unknown, suspended)
                    if made is None:
                        continue                # named people to fetch first: the row stays queued
                    deliveries.extend(made)
                done.append(row.id)
            await store.add_deliveries(conn, deliveries)
            await store.drop_queued(conn, done)
        if unknown:
            await self._resolve(unknown)
        return len(claimed)

    async def _deliveries(self, conn: AsyncConnection, entry: int | None, outbound: OutboundActivity, now: int,
                          unknown: set[str], suspended: set[str]) -> list[dict[str, Any]] | None:
        audience = outbound.audience
        people = [iri for iri in audience.people if local_ref(self.base_url, iri) is None]
        known = await store.actor_inboxes(conn, people)
        missing = [iri for iri in people if iri not in known]
        to_fetch = [iri for iri in missing if self._may_fetch(iri, now)]
        if to_fetch:
            unknown.update(to_fetch)
            return None
        for iri in missing:
            log.warning("%s is not delivered to %s: its actor is unknown here", outbound.activity.get("id"), iri)
        inboxes = set(known.values())
        if audience.followers:
            inboxes |= await store.follower_inboxes(conn, outbound.actor_identity)
        ours = self.base_url.lower() + "/"
        body = orjson.dumps(outbound.activity)
        activity_id = str(outbound.activity.get("id", ""))
        return [{"entry": entry, "activity": activity_id, "actor_identity": outbound.actor_identity,
                 "actor": outbound.actor, "inbox": inbox, "host": urlsplit(inbox).netloc.lower(),
                 "body": body, "next_at": now, "created_at": now}
                for inbox in sorted(inboxes) if not inbox.lower().startswith(ours)
                and not suspended.intersection(moderation.domains_of(urlsplit(inbox).netloc))]

    def _may_fetch(self, iri: str, now: int) -> bool:
        if self.resolve is None:
            return False
        tried = self._tried.get(iri)
        return tried is None or now - tried >= RESOLVE_AGAIN_AFTER_MS

    async def _resolve(self, iris: Sequence[str] | set[str]) -> None:
        if self.resolve is None:
            return
        for iri in sorted(iris):
            # Remembered either way: an actor fetched but still not held is not fetched in a loop.
            self._tried[iri] = self.clock()
            try:
                await self.resolve(iri)
            except (WeftError, OSError) as error:
                log.warning("cannot fetch the actor %s to deliver to it: %s", iri, error)
        if len(self._tried) > 10_000:     # bounded memory: forget the oldest failures
            for iri, _ in sorted(self._tried.items(), key=lambda item: item[1])[:5_000]:
                del self._tried[iri]


def _named(row: store.QueuedRow) -> str:
    return f"entry row {row.entry}" if row.entry is not None else f"report {row.report}"
