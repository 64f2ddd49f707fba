"""The federation outbox's rows: the queue ingest fills, deliveries, troubled hosts. SQL only.

The queue names entries and nothing of ActivityPub; weft.federation turns its rows into
deliveries (weft.federation.outbox) and delivers them (weft.federation.delivery). Claims
take ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that workers in several processes never
take the same row; SQLite's single writer serializes them already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from sqlalchemy import and_, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.outbox_facts import target_facts
from weft.store.schema import (
    FOLLOW,
    federation_deliveries,
    federation_hosts,
    federation_queue,
    relations,
    remote_actors,
)
from weft.store.social import follows_effectively
from weft.store.sql import select_in

__all__ = [
    "FEDERATING_TYPES", "ClaimedDelivery", "HostHealth", "QueuedRow", "Retry", "actor_inboxes",
    "add_deliveries", "claim_deliveries", "claim_queue", "counts", "drop_queued", "finish_deliveries",
    "follower_inboxes", "give_up_on_down_hosts", "host_health", "hosts_down", "queue_entries", "queue_holds_any",
    "queue_report", "queued_target_facts", "retry_deliveries", "save_hosts", "sweep_finished",
]

# Content types a hosted person's entry federates with (decision 0007): what others see or
# must hear of. Mutes are private; unknown types have no activity.
FEDERATING_TYPES: Final = frozenset({
    "post", "edit", "delete", "like", "boost", "follow", "unfollow", "block", "unblock",
    "follow_accept", "follow_reject", "profile", "move"})


# -- the queue -----------------------------------------------------------------------------


async def queue_entries(conn: AsyncConnection, written: Sequence[tuple[int, int, Mapping[str, Any]]], now: int) -> int:
    """Queue the entries among ``written`` (entry row, author row, content) whose author is an
    active hosted account and whose type federates; in the caller's transaction, so an entry
    is never stored without its row nor the other way round. Call it before the fold: a
    delete's row keeps what its target was (weft.store.outbox_facts), which the fold drops."""
    candidates = [(entry, author, content) for entry, author, content in written
                  if content.get("type") in FEDERATING_TYPES]
    if not candidates:
        return 0
    hosted = {author for (author,) in await select_in(
        conn, "SELECT identity FROM accounts WHERE state = 'active' AND identity {in}",
        sorted({author for _, author, _ in candidates}))}
    queued = [(entry, author, content) for entry, author, content in candidates if author in hosted]
    facts = await target_facts(conn, [(entry, author, content.get("target")) for entry, author, content in queued
                                      if content.get("type") == "delete"])
    rows = [{"entry": entry, "queued_at": now, "target_facts": facts.get(entry)} for entry, _, _ in queued]
    if rows:
        await conn.execute(insert(federation_queue), rows)
    return len(rows)


async def queue_report(conn: AsyncConnection, report: int, now: int) -> None:
    """Queue a report (reports.id) to go to the reported person's server, in the caller's
    transaction (the one that stores the report)."""
    await conn.execute(insert(federation_queue).values(report=report, queued_at=now))


@dataclass(frozen=True)
class QueuedRow:
    """A queue row: an entry to federate, or a report to forward (the other is None)."""

    id: int
    entry: int | None
    report: int | None


async def queue_holds_any(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(federation_queue.c.id).limit(1))).first() is not None


async def claim_queue(conn: AsyncConnection, limit: int) -> list[QueuedRow]:
    """The oldest queue rows no other worker holds, locked until the caller's transaction
    ends (PostgreSQL; SQLite's writer is alone anyway)."""
    q = federation_queue
    query = select(q.c.id, q.c.entry, q.c.report).order_by(q.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [QueuedRow(int(row[0]), None if row[1] is None else int(row[1]), None if row[2] is None else int(row[2]))
            for row in (await conn.execute(query)).all()]


async def queued_target_facts(conn: AsyncConnection, entry: int) -> dict[str, Any] | None:
    """What the queued delete at ``entry`` remembers of its target (see weft.store.outbox_facts);
    None when it is not queued or its target was not held with its content."""
    found = (await conn.execute(select(federation_queue.c.target_facts).where(
        federation_queue.c.entry == entry, federation_queue.c.target_facts.is_not(None)).limit(1))).scalar()
    facts = orjson.loads(found) if found is not None else None
    return facts if isinstance(facts, dict) else None


async def drop_queued(conn: AsyncConnection, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(delete(federation_queue).where(federation_queue.c.id.in_(list(ids))))


# -- who gets what ---------------------------------------------------------------------------


async def follower_inboxes(conn: AsyncConnection, author: int) -> set[str]:
    """The inboxes of the remote people who follow ``author`` (let in, if locked): their shared
    inbox where they have one, so that a server of many followers gets one delivery."""
    inbox = func.coalesce(remote_actors.c.shared_inbox, remote_actors.c.inbox)
    query = (select(inbox).distinct()
             .select_from(relations.join(remote_actors, remote_actors.c.identity == relations.c.source))
             .where(relations.c.target == author, relations.c.kind == FOLLOW, relations.c.active.is_(True),
                    follows_effectively(relations.c.source, literal(author))))
    return {str(url) for (url,) in (await conn.execute(query)).all()}


async def actor_inboxes(conn: AsyncConnection, iris: Iterable[str]) -> dict[str, str]:
    """Actor IRI -> inbox (the shared one first) for the remote actors held of ``iris``."""
    rows = await select_in(conn, "SELECT iri, COALESCE(shared_inbox, inbox) FROM remote_actors WHERE iri {in}",
                           sorted(set(iris)))
    return {str(iri): str(inbox) for iri, inbox in rows}


async def add_deliveries(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of federation_deliveries (entry, activity, actor_identity, actor, inbox, host, body,
    next_at, created_at); the rest take their defaults."""
    if rows:
        await conn.execute(insert(federation_deliveries), list(rows))


# -- delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    inbox: str
    host: str
    actor_identity: int
    actor: str
    body: bytes
    attempts: int
    created_at: int


async def claim_deliveries(conn: AsyncConnection, now: int, room: Mapping[str, int], *, limit: int,
                           per_host: int, lease_ms: int) -> list[ClaimedDelivery]:
    """Up to ``limit`` due deliveries to hosts that are not down, at most ``room.get(host,
    per_host)`` per host, leased until ``now + lease_ms``: a worker that dies holding them
    leaves them due again then, and a worker that lives settles them first."""
    full = sorted(host for host, free in room.items() if free <= 0)
    d = federation_deliveries
    down = select(federation_hosts.c.host).where(federation_hosts.c.host == d.c.host,
                                                 federation_hosts.c.down_until > now)
    # No wider window than ``limit``: on PostgreSQL every row the query returns stays locked
    # until the claim commits, and another worker's claim skips it meanwhile. Rows over a
    # host's room are left for the next round, which skips that host once it is full.
    query = (select(d.c.id, d.c.inbox, d.c.host, d.c.actor_identity, d.c.actor, d.c.body, d.c.attempts,
                    d.c.created_at)
             .where(d.c.state == "pending", d.c.next_at <= now, ~down.exists(),
                    *([d.c.host.not_in(full)] if full else []))
             .order_by(d.c.next_at).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=d, skip_locked=True)
    taken: list[ClaimedDelivery] = []
    per: dict[str, int] = {}
    for row in (await conn.execute(query)).all():
        host = str(row[2])
        if per.get(host, 0) >= room.get(host, per_host):
            continue
        per[host] = per.get(host, 0) + 1
        taken.append(ClaimedDelivery(int(row[0]), str(row[1]), host, int(row[3]), str(row[4]), bytes(row[5]),
                                     int(row[6]), int(row[7])))
    if taken:
        await conn.execute(update(d).where(d.c.id.in_([t.id for t in taken])).values(next_at=now + lease_ms))
    return taken


async def finish_deliveries(conn: AsyncConnection, ids: Sequence[int], state: str, now: int,
                            errors: Mapping[int, str] | None = None) -> None:
    """Settle deliveries for good: 'done', 'gone' (410) or 'failed' (with their last error)."""
    if not ids:
        return
    d = federation_deliveries
    if not errors:
        await conn.execute(update(d).where(d.c.id.in_(list(ids)))
                           .values(state=state, finished_at=now, attempts=d.c.attempts + 1))
        return
    await conn.execute(update(d).where(d.c.id == bindparam("key"))
                       .values(state=state, finished_at=now, attempts=d.c.attempts + 1, last_error=bindparam("why")),
                       [{"key": i, "why": (errors.get(i) or "")[:1000] or None} for i in ids])


@dataclass(frozen=True)
class Retry:
    id: int
    next_at: int
    error: str
    counted: bool = True      # an attempt (False: our own trouble, the remote was not asked)


async def retry_deliveries(conn: AsyncConnection, retries: Sequence[Retry]) -> None:
    if not retries:
        return
    d = federation_deliveries
    await conn.execute(update(d).where(d.c.id == bindparam("key"))
                       .values(next_at=bindparam("due"), last_error=bindparam("why"),
                               attempts=d.c.attempts + bindparam("add")),
                       [{"key": r.id, "due": r.next_at, "why": r.error[:1000], "add": int(r.counted)}
                        for r in retries])


# -- the hosts' circuit breaker -----------------------------------------------------------------


@dataclass(frozen=True)
class HostHealth:
    failures: int = 0
    trips: int = 0
    down_until: int = 0
    last_error: str | None = None


async def host_health(conn: AsyncConnection, hosts: Iterable[str]) -> dict[str, HostHealth]:
    """The troubled hosts among ``hosts`` (locked on PostgreSQL until the transaction ends)."""
    wanted = sorted(set(hosts))
    if not wanted:
        return {}
    h = federation_hosts
    query = select(h.c.host, h.c.failures, h.c.trips, h.c.down_until, h.c.last_error).where(h.c.host.in_(wanted))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {str(r[0]): HostHealth(int(r[1]), int(r[2]), int(r[3]), r[4]) for r in (await conn.execute(query)).all()}


async def save_hosts(conn: AsyncConnection, health: Mapping[str, HostHealth]) -> None:
    """Store each host's health; a healthy one (no failures) loses its row."""
    h = federation_hosts
    healthy = [host for host, state in health.items() if state.failures == 0]
    troubled = {host: state for host, state in health.items() if state.failures > 0}
    if healthy:
        await conn.execute(delete(h).where(h.c.host.in_(sorted(healthy))))
    if troubled:
        await conn.execute(delete(h).where(h.c.host.in_(sorted(troubled))))
        await conn.execute(insert(h), [{"host": host, "failures": s.failures, "trips": s.trips,
                                        "down_until": s.down_until, "last_error": (s.last_error or "")[:1000]}
                                       for host, s in sorted(troubled.items())])


# -- upkeep ----------------------------------------------------------------------------------


async def sweep_finished(conn: AsyncConnection, *, done_before: int, failed_before: int) -> int:
    """Forget deliveries settled long enough ago: done and gone ones before ``done_before``,
    failed ones (kept longer, for whoever looks into them) before ``failed_before``."""
    d = federation_deliveries
    result = await conn.execute(delete(d).where(d.c.finished_at.is_not(None), or_(
        and_(d.c.state.in_(("done", "gone")), d.c.finished_at < done_before),
        and_(d.c.state == "failed", d.c.finished_at < failed_before))))
    return int(result.rowcount or 0)


async def give_up_on_down_hosts(conn: AsyncConnection, now: int, created_before: int) -> int:
    """Deliveries made before ``created_before`` still waiting for a host that is down: failed."""
    d = federation_deliveries
    down = select(federation_hosts.c.host).where(federation_hosts.c.down_until > now)
    result = await conn.execute(update(d).where(d.c.state == "pending", d.c.created_at < created_before,
                                                d.c.host.in_(down))
                                .values(state="failed", finished_at=now,
                                        last_error="the host stayed down past the delivery deadline"))
    return int(result.rowcount or 0)


async def hosts_down(conn: AsyncConnection, now: int) -> int:
    """How many hosts the circuit breaker holds off at ``now``."""
    h = federation_hosts
    return int((await conn.execute(select(func.count()).select_from(h).where(h.c.down_until > now))).scalar() or 0)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """Deliveries by state, and ``queued`` rows not yet expanded (for operators and tests)."""
    found = {"queued": int((await conn.execute(select(func.count()).select_from(federation_queue))).scalar() or 0),
             "pending": 0, "done": 0, "gone": 0, "failed": 0}
    rows = await conn.execute(select(federation_deliveries.c.state, func.count())
                              .group_by(federation_deliveries.c.state))
    found.update({str(state): int(n) for state, n in rows.all()})
    return found
