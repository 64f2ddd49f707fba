"""The nodes this node replicates with, and what the scheduler remembers about each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import peers
from weft.store.sql import insert_ignoring

__all__ = ["Peer", "PeerSource", "add_peer", "due_peers", "list_peers", "record_failure", "record_success"]

PeerSource = Literal["manual", "lan", "home"]


@dataclass(frozen=True)
class Peer:
    id: int
    host: str
    port: int
    key: str | None
    source: str
    added_at: int
    last_attempt: int | None
    last_success: int | None
    failures: int
    next_attempt: int
    last_error: str | None
    entries_received: int
    entries_sent: int

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


async def add_peer(conn: AsyncConnection, host: str, port: int, *, key: str | None, source: PeerSource,
                   now_ms: int) -> Peer:
    """Remember a peer (kept as it is if the address is known; a key given now is pinned)."""
    await conn.execute(insert_ignoring(conn, peers, "host", "port"),
                       [{"host": host, "port": port, "key": key, "source": source, "added_at": now_ms}])
    if key is not None:
        await conn.execute(update(peers).where(peers.c.host == host, peers.c.port == port,
                                               peers.c.key.is_(None)).values(key=key))
    row = (await conn.execute(select(peers).where(peers.c.host == host, peers.c.port == port))).one()
    return Peer(**row._mapping)


async def list_peers(conn: AsyncConnection) -> list[Peer]:
    rows = await conn.execute(select(peers).order_by(peers.c.id))
    return [Peer(**row._mapping) for row in rows]


async def due_peers(conn: AsyncConnection, now_ms: int, limit: int) -> list[Peer]:
    """Peers whose backoff has passed, those waiting longest first."""
    rows = await conn.execute(select(peers).where(peers.c.next_attempt <= now_ms)
                              .order_by(peers.c.next_attempt, peers.c.id).limit(limit))
    return [Peer(**row._mapping) for row in rows]


async def record_success(conn: AsyncConnection, peer_id: int, *, now_ms: int, key: str,
                         received: int, sent: int) -> None:
    """A session ended well: reset the backoff, pin the key it proved, add up what moved."""
    await conn.execute(update(peers).where(peers.c.id == peer_id).values(
        last_attempt=now_ms, last_success=now_ms, failures=0, next_attempt=now_ms, last_error=None, key=key,
        entries_received=peers.c.entries_received + received, entries_sent=peers.c.entries_sent + sent))


async def record_failure(conn: AsyncConnection, peer_id: int, *, now_ms: int, error: str,
                         next_attempt: int) -> None:
    await conn.execute(update(peers).where(peers.c.id == peer_id).values(
        last_attempt=now_ms, failures=peers.c.failures + 1, next_attempt=next_attempt, last_error=error[:500]))
