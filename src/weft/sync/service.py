"""The gossip face of a node: a listener that replicates live with whoever connects, and
one-shot syncs out to a peer. ``weft serve`` runs the listener; ``weft sync`` the latter.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from weft.core.keys import SigningKey
from weft.ingest import Ingest
from weft.store.database import Database
from weft.sync.muxrpc_events import Request, RequestType
from weft.sync.replication import (
    REPLICATE,
    ReplicationSession,
    Replicator,
    SessionLimits,
    SessionStats,
)
from weft.sync.rpc_connection import RpcConnection, RpcStream
from weft.sync.secure_stream import SecureStream, connect, serve
from weft.sync.shs import WEFT_NETWORK_KEY

__all__ = ["SyncService"]

log = logging.getLogger("weft.sync")


class SyncService:
    """Replication for one node: its database, its ingest, its transport key."""

    def __init__(self, db: Database, ingest: Ingest, clock: Callable[[], int], signing_key: SigningKey, *,
                 network_key: bytes = WEFT_NETWORK_KEY, hops: int = 2, limits: SessionLimits | None = None) -> None:
        self.replicator = Replicator(db, ingest, clock, hops=hops)
        self.signing_key = signing_key
        self.network_key = network_key
        self.limits = limits
        self.sessions: set[ReplicationSession] = set()

    async def listen(self, host: str, port: int) -> asyncio.Server:
        """Accept peers on ``host:port`` (0: any free port; see the server's sockets)."""
        return await serve(self._on_connection, host, port, signing_key=self.signing_key,
                           network_key=self.network_key)

    async def listen_on(self, sock: socket.socket) -> asyncio.Server:
        """Accept peers on a socket already bound and listening."""
        return await serve(self._on_connection, None, None, signing_key=self.signing_key,
                           network_key=self.network_key, sock=sock)

    async def sync_once(self, host: str, port: int, server_key: bytes, *,
                        progress: Callable[[SessionStats], None] | None = None) -> SessionStats:
        """Connect, exchange until both sides are caught up, and hang up."""
        return await self.replicate(host, port, server_key, live=False, progress=progress)

    async def replicate(self, host: str, port: int, server_key: bytes, *, live: bool,
                        progress: Callable[[SessionStats], None] | None = None) -> SessionStats:
        """Connect and replicate; ``live`` stays connected, streaming new entries both ways."""
        stream = await connect(host, port, signing_key=self.signing_key, server_public_key=server_key,
                               network_key=self.network_key)
        async with RpcConnection(stream, self._on_request) as connection:
            rpc = await connection.open(REPLICATE, RequestType.DUPLEX)
            session = ReplicationSession(self.replicator, rpc, live=live, limits=self.limits, progress=progress)
            return await self._run(session)

    async def _on_connection(self, stream: SecureStream) -> None:
        async with RpcConnection(stream, self._on_request) as connection:
            await connection.closed.wait()

    async def _on_request(self, stream: RpcStream, request: Request) -> None:
        if tuple(request.name) == REPLICATE and request.type is RequestType.DUPLEX:
            await self._run(ReplicationSession(self.replicator, stream, live=True, limits=self.limits))
        else:
            await stream.fail(f"no such method: {'.'.join(request.name)[:80]} ({request.type})")

    async def _run(self, session: ReplicationSession) -> SessionStats:
        self.sessions.add(session)
        try:
            return await session.run()
        finally:
            self.sessions.discard(session)
