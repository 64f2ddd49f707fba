"""Server moderation's rows: domain blocks and reports. SQL only.

A block of ``example.com`` covers ``example.com`` and every subdomain of it (as Mastodon's
do); the most specific block wins when two apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import domain_blocks, remote_actors, reports
from weft.store.sql import upsert

__all__ = [
    "DomainBlock",
    "Report",
    "actors_of_domain",
    "add_report",
    "domain_block_list",
    "domains_of",
    "forget_domain_block",
    "is_remote_actor",
    "list_reports",
    "report_by_id",
    "resolve_report",
    "save_domain_block",
    "silenced_identities",
]


@dataclass(frozen=True)
class DomainBlock:
    domain: str
    severity: str                 # suspend | silence | noop
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    obfuscate: bool
    created_at: int


@dataclass(frozen=True)
class Report:
    id: int
    reporter: int | None
    target: int
    entries: tuple[str, ...]
    comment: str
    category: str
    forward: bool
    origin: str | None
    origin_host: str | None
    created_at: int
    resolved_at: int | None
    resolved_by: int | None


def domains_of(host: str) -> list[str]:
    """``a.b.example.com`` → [a.b.example.com, b.example.com, example.com, com]: the domains
    whose block covers ``host``, most specific first. A port is not part of the domain."""
    name = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
    parts = name.strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


async def domain_block_list(conn: AsyncConnection) -> list[DomainBlock]:
    rows = await conn.execute(select(domain_blocks).order_by(domain_blocks.c.domain))
    return [DomainBlock(**row._mapping) for row in rows.all()]


async def save_domain_block(conn: AsyncConnection, block: DomainBlock) -> None:
    values: dict[str, Any] = {**block.__dict__}
    await conn.execute(upsert(conn, domain_blocks, ["domain"], [c for c in values if c != "domain"]), [values])


async def forget_domain_block(conn: AsyncConnection, domain: str) -> bool:
    done = await conn.execute(delete(domain_blocks).where(domain_blocks.c.domain == domain))
    return bool(done.rowcount)


def _covered(column: Any, domain: str) -> Any:
    """SQL: the host in ``column`` is ``domain`` or a subdomain of it (with or without a port)."""
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == domain, column.like(f"{escaped}:%", escape="\\"),
               column.like(f"%.{escaped}", escape="\\"), column.like(f"%.{escaped}:%", escape="\\"))


async def is_remote_actor(conn: AsyncConnection, identity: int) -> bool:
    """Whether ``identity`` is a Fediverse actor held here (a report about it can be forwarded)."""
    found = await conn.execute(select(remote_actors.c.identity).where(remote_actors.c.identity == identity))
    return found.first() is not None


async def actors_of_domain(conn: AsyncConnection, domain: str) -> list[int]:
    """The identity rows of the remote actors held from ``domain`` and its subdomains."""
    rows = await conn.execute(select(remote_actors.c.identity).where(_covered(func.lower(remote_actors.c.host), domain)))
    return [identity for (identity,) in rows.all()]


def silenced_identities(silenced: Sequence[str]) -> Any:
    """A subquery of the remote actors from silenced domains (for ``NOT IN``), or None."""
    if not silenced:
        return None
    return select(remote_actors.c.identity).where(
        or_(*(_covered(func.lower(remote_actors.c.host), domain) for domain in silenced)))


def _report(row: Any) -> Report:
    values = dict(row._mapping)
    values["entries"] = tuple(orjson.loads(values["entries"]))
    return Report(**values)


async def add_report(conn: AsyncConnection, *, reporter: int | None, target: int, entries: Iterable[str],
                     comment: str, category: str, forward: bool, now_ms: int, origin: str | None = None,
                     origin_host: str | None = None) -> int | None:
    """The new report's id; None when a report of this ``origin`` (a received Flag) is held."""
    if origin is not None:
        held = (await conn.execute(select(reports.c.id).where(reports.c.origin == origin))).first()
        if held is not None:
            return None
    done = await conn.execute(reports.insert().values(
        reporter=reporter, target=target, entries=orjson.dumps(sorted(set(entries))).decode(), comment=comment,
        category=category, forward=forward, origin=origin, origin_host=origin_host, created_at=now_ms))
    key = done.inserted_primary_key
    return int(key[0]) if key else None


async def list_reports(conn: AsyncConnection, *, resolved: bool, limit: int = 100) -> list[Report]:
    condition = reports.c.resolved_at.is_not(None) if resolved else reports.c.resolved_at.is_(None)
    rows = await conn.execute(select(reports).where(condition).order_by(reports.c.id.desc()).limit(limit))
    return [_report(row) for row in rows.all()]


async def report_by_id(conn: AsyncConnection, report_id: int) -> Report | None:
    row = (await conn.execute(select(reports).where(reports.c.id == report_id))).first()
    return None if row is None else _report(row)


async def resolve_report(conn: AsyncConnection, report_id: int, by_account: int, now_ms: int, *,
                         reopen: bool = False) -> bool:
    values = {"resolved_at": None, "resolved_by": None} if reopen else {"resolved_at": now_ms,
                                                                          "resolved_by": by_account}
    done = await conn.execute(update(reports).where(reports.c.id == report_id).values(**values))
    return bool(done.rowcount)
