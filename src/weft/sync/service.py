"""The gossip face of a node: a listener that replicates live with whoever connects, and
one-shot syncs out to a peer. ``weft serve`` runs the listener; ``weft sync`` the latter.

A peer that misbehaves is logged with the reason and hung up on, and what we remembered of
it is forgotten. What we remember of the others (``PeerMemory``, by transport key, in
memory only) lets the next session with them announce only the logs that changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import OrderedDict
from collections.abc import Callable

from weft.core.keys import SigningKey
from weft.errors import RpcProtocolError, TransportError
from weft.ingest import Ingest
from weft.store.database import Database
from weft.sync.muxrpc_events import Request, RequestType
from weft.sync.replication import (
    REPLICATE,
    PeerMisbehaved,
    ReplicationSession,
    Replicator,
    SessionLimits,
    SessionStats,
)
from weft.sync.replication_messages import PeerMemory
from weft.sync.rpc_connection import RpcConnection, RpcStream
from weft.sync.secure_stream import SecureStream, connect, serve
from weft.sync.shs import WEFT_NETWORK_KEY

__all__ = ["SyncService"]

log = logging.getLogger("weft.sync")

REMEMBERED_PEERS = 1024   # peers whose clocks we keep between sessions (the least recent are forgotten)


class SyncService:
    """Replication for one node: its database, its ingest, its transport key."""

    def __init__(self, db: Database, ingest: Ingest, clock: Callable[[], int], signing_key: SigningKey, *,
                 network_key: bytes = WEFT_NETWORK_KEY, hops: int = 2, limits: SessionLimits | None = None) -> None:
        self.replicator = Replicator(db, ingest, clock, hops=hops)
        self.signing_key = signing_key
        self.network_key = network_key
        self.limits = limits
        self.sessions: set[ReplicationSession] = set()
        self._memories: OrderedDict[str, PeerMemory] = OrderedDict()

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
        return await self.replicate_stream(stream, live=live, progress=progress)

    async def replicate_stream(self, stream: SecureStream, *, live: bool,
                               progress: Callable[[SessionStats], None] | None = None) -> SessionStats:
        """Replicate over a stream this node opened by any carrier (TCP, or a WebSocket)."""
        async with RpcConnection(stream, self._on_request) as connection:
            rpc = await connection.open(REPLICATE, RequestType.DUPLEX)
            return await self._run(rpc, live=live, progress=progress)

    async def serve_stream(self, stream: SecureStream) -> None:
        """Answer a peer on a stream accepted by any carrier (TCP here, or a WebSocket), until
        it hangs up or is hung up on."""
        async with RpcConnection(stream, self._on_request) as connection:
            await connection.closed.wait()

    async def _on_connection(self, stream: SecureStream) -> None:
        await self.serve_stream(stream)

    async def _on_request(self, stream: RpcStream, request: Request) -> None:
        if tuple(request.name) != REPLICATE or request.type is not RequestType.DUPLEX:
            await stream.fail(f"no such method: {'.'.join(request.name)[:80]} ({request.type})")
        elif any(session.stream.connection is stream.connection for session in self.sessions):
            # One is all a peer needs; more would only multiply the work it can make us do.
            await stream.fail("this connection replicates already")
        else:
            with contextlib.suppress(PeerMisbehaved):  # logged, and the peer hung up on, by _run
                await self._run(stream, live=True)

    async def _run(self, stream: RpcStream, *, live: bool,
                   progress: Callable[[SessionStats], None] | None = None) -> SessionStats:
        peer = stream.connection.peer
        session = ReplicationSession(self.replicator, stream, live=live, limits=self.limits, progress=progress,
                                     memory=self._memories.pop(peer, None))  # one session at a time uses it
        self.sessions.add(session)
        try:
            stats = await session.run()
        except PeerMisbehaved as exc:
            log.warning("disconnecting %s: %s", peer, exc)
            with contextlib.suppress(RpcProtocolError, TransportError):
                await stream.fail(str(exc)[:300])
            await stream.connection.abort(exc)
            raise
        except BaseException:
            self._remember(peer, session)
            raise
        finally:
            self.sessions.discard(session)
        self._remember(peer, session)
        return stats

    def _remember(self, peer: str, session: ReplicationSession) -> None:
        self._memories[peer] = session.remembered()
        self._memories.move_to_end(peer)
        while len(self._memories) > REMEMBERED_PEERS:
            self._memories.popitem(last=False)
