"""The nodes this node replicates with, and what the scheduler remembers about each."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import peers
from weft.store.sql import insert_ignoring

__all__ = ["Peer", "PeerSource", "add_peer", "dialable_peers", "due_peers", "list_peers", "next_dial_at",
           "note_lan_peer", "record_failure", "record_success"]

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


async def note_lan_peer(conn: AsyncConnection, host: str, port: int, *, key: str, now_ms: int) -> Peer:
    """A node announced itself on the LAN at ``host:port`` with ``key``: remember it, due now.

    An announcement means the node is up, so a backoff left from when it was away is cut
    short. A row that LAN discovery made takes the key announced now, since a LAN address
    changes hands (DHCP) and that key was only ever as good as the last announcement (the
    handshake proves it either way); a key pinned by hand (or named by a home node) is kept.
    """
    peer = await add_peer(conn, host, port, key=key, source="lan", now_ms=now_ms)
    values: dict[str, Any]
    if peer.key != key:
        if peer.source != "lan":
            return peer
        values = {"key": key, "failures": 0, "last_error": None, "next_attempt": now_ms}
    elif peer.next_attempt > now_ms:
        values = {"next_attempt": now_ms}
    else:
        return peer
    await conn.execute(update(peers).where(peers.c.id == peer.id).values(**values))
    return replace(peer, **values)


async def list_peers(conn: AsyncConnection) -> list[Peer]:
    rows = await conn.execute(select(peers).order_by(peers.c.id))
    return [Peer(**row._mapping) for row in rows]


async def due_peers(conn: AsyncConnection, now_ms: int, limit: int) -> list[Peer]:
    """Peers whose backoff has passed, those waiting longest first."""
    rows = await conn.execute(select(peers).where(peers.c.next_attempt <= now_ms)
                              .order_by(peers.c.next_attempt, peers.c.id).limit(limit))
    return [Peer(**row._mapping) for row in rows]


def _dialable(now_ms: int | None, connected: Collection[str]) -> list[ColumnElement[bool]]:
    """Rows with a pinned key (the handshake needs it) whose node is not connected already: one
    node may be known at two addresses, and a connection it made to us counts too."""
    where: list[ColumnElement[bool]] = [peers.c.key.is_not(None)]
    if now_ms is not None:
        where.append(peers.c.next_attempt <= now_ms)
    if connected:
        where.append(peers.c.key.not_in(list(connected)))
    return where


async def dialable_peers(conn: AsyncConnection, now_ms: int, limit: int, *,
                         connected: Collection[str] = ()) -> list[Peer]:
    """What the scheduler may dial now: due, key pinned, not connected; longest waiting first."""
    rows = await conn.execute(select(peers).where(*_dialable(now_ms, connected))
                              .order_by(peers.c.next_attempt, peers.c.id).limit(limit))
    return [Peer(**row._mapping) for row in rows]


async def next_dial_at(conn: AsyncConnection, *, connected: Collection[str] = ()) -> int | None:
    """When the next peer the scheduler could dial falls due (None: there is none)."""
    earliest: int | None = await conn.scalar(select(func.min(peers.c.next_attempt))
                                             .where(*_dialable(None, connected)))
    return earliest


async def record_success(conn: AsyncConnection, peer_id: int, *, now_ms: int, key: str,
                         received: int, sent: int, next_attempt: int | None = None) -> None:
    """A session ended well: reset the backoff, pin the key it proved, add up what moved.

    ``next_attempt`` (default: now) is when to connect again; a live session that ended
    means the peer hung up, so the scheduler waits a little before calling back.
    """
    await conn.execute(update(peers).where(peers.c.id == peer_id).values(
        last_attempt=now_ms, last_success=now_ms, failures=0, last_error=None, key=key,
        next_attempt=now_ms if next_attempt is None else next_attempt,
        entries_received=peers.c.entries_received + received, entries_sent=peers.c.entries_sent + sent))


async def record_failure(conn: AsyncConnection, peer_id: int, *, now_ms: int, error: str,
                         next_attempt: int) -> None:
    await conn.execute(update(peers).where(peers.c.id == peer_id).values(
        last_attempt=now_ms, failures=peers.c.failures + 1, next_attempt=next_attempt, last_error=error[:500]))
