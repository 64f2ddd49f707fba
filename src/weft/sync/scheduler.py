"""Keeping a node connected: live replication with a few peers from the peers table.

The scheduler holds at most ``max_connections`` live sessions it dialled itself. When a
slot is free it dials the peers whose ``next_attempt`` has come (longest waiting first),
skipping those without a pinned key (the handshake needs one) and those already connected
either way. A failed peer is tried again after an exponential backoff with jitter
(``weft.sync.backoff``); a session that ends cleanly is called back after a short wait.

It sleeps until the next peer falls due, a session ends, or someone calls ``wake()`` (LAN
discovery, when it records a node); an idle timer catches peers added by another process
(``weft peers add`` while ``weft serve`` runs). It never polls in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as random_module
from collections.abc import Callable
from types import TracebackType
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from weft.core.keys import public_key_from_did_key
from weft.errors import KeyFormatError, RpcRemoteProtocolError, TransportError
from weft.store.database import Database
from weft.store.peers import Peer, dialable_peers, next_dial_at, record_failure, record_success
from weft.sync.backoff import backoff_ms, reconnect_ms
from weft.sync.replication import PeerMisbehaved, SessionStats
from weft.sync.rpc_connection import StreamFailed
from weft.sync.service import SyncService

__all__ = ["DEFAULT_MAX_CONNECTIONS", "IDLE_MS", "PeerScheduler"]

log = logging.getLogger("weft.sync")

DEFAULT_MAX_CONNECTIONS: Final = 4
IDLE_MS: Final = 60_000     # look at the table at least this often, for peers added by other processes
MIN_WAIT_S: Final = 0.05    # a floor under every sleep, so a clock that goes backwards cannot make a spin

# What a peer, or the network between us, can do to a session. Anything else is a bug here,
# and is logged with its traceback (and the peer still backed off, so the bug cannot spin).
PEER_FAILURES: Final = (OSError, TransportError, RpcRemoteProtocolError, PeerMisbehaved, StreamFailed)


class PeerScheduler:
    """Live replication with up to ``max_connections`` peers, dialled from the peers table.

    The table counts, as ``weft sync`` does, the entries a peer sent that were new here
    (``SessionStats.stored``) and the entries sent to it.

    ``clock`` gives milliseconds (the node's clock); ``random`` gives floats in [0, 1) for
    the jitter. Use ``async with`` or start()/stop().
    """

    def __init__(self, db: Database, sync: SyncService, clock: Callable[[], int], *,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 random: Callable[[], float] = random_module.random, idle_ms: int = IDLE_MS) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1 (got {max_connections})")
        self.db = db
        self.sync = sync
        self.clock = clock
        self.max_connections = max_connections
        self.random = random
        self.idle_ms = idle_ms
        self.sessions: dict[int, Peer] = {}          # peer id → the peer, for each session we dialled
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._woken = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look at the peers table now (a peer was added, or one is known to be back)."""
        self._woken.set()

    async def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="weft-peer-scheduler")

    async def stop(self) -> None:
        """Stop dialling and hang up every session the scheduler made. Idempotent."""
        loop, self._loop = self._loop, None
        tasks = [*([loop] if loop else []), *self._tasks.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> PeerScheduler:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()

    # -- the loop ------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            # Cleared before looking, so a wake() that comes while we look is not lost.
            self._woken.clear()
            try:
                wait_ms = await self._dial_due()
            except SQLAlchemyError as exc:
                log.warning("peer scheduler: cannot read the peers table: %s", exc)
                wait_ms = self.idle_ms
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait_ms / 1000, MIN_WAIT_S)):
                    await self._woken.wait()

    async def _dial_due(self) -> int:
        """Dial what is due and there is room for; return how long to sleep (ms)."""
        free = self.max_connections - len(self.sessions)
        if free <= 0:
            return self.idle_ms                      # a session ending wakes us
        connected = self._connected_keys()
        async with self.db.read() as conn:
            due = await dialable_peers(conn, self.clock(), free, connected=connected)
        for peer in due:
            if peer.key is not None and peer.key not in connected:   # two rows may name one node
                connected.add(peer.key)
                self._dial(peer)
        if len(self.sessions) >= self.max_connections:
            return self.idle_ms
        async with self.db.read() as conn:
            earliest = await next_dial_at(conn, connected=connected)
        if earliest is None:
            return self.idle_ms
        return min(self.idle_ms, earliest - self.clock())

    def _connected_keys(self) -> set[str]:
        """The nodes we have a session with: dialled by us, or connected to us (the listener)."""
        keys = {peer.key for peer in self.sessions.values() if peer.key is not None}
        keys.update(session.stream.connection.peer for session in self.sync.sessions)
        return keys

    def _dial(self, peer: Peer) -> None:
        self.sessions[peer.id] = peer
        task = asyncio.create_task(self._session(peer), name=f"weft-peer-{peer.address}")
        self._tasks[peer.id] = task

        def finished(_: asyncio.Task[None]) -> None:
            self.sessions.pop(peer.id, None)
            self._tasks.pop(peer.id, None)
            self.wake()                              # a slot is free

        task.add_done_callback(finished)

    # -- one session -----------------------------------------------------------------

    async def _session(self, peer: Peer) -> None:
        # The session's stats object, as the progress callback hands it over: if the session
        # breaks, what it moved before still counts.
        seen: list[SessionStats] = []

        def progress(stats: SessionStats) -> None:
            if not seen:
                seen.append(stats)

        try:
            try:
                server_key = public_key_from_did_key(peer.key or "")
            except KeyFormatError as exc:
                await self._failed(peer, f"the pinned key is unusable: {exc}", None, credit=False)
                return
            log.info("connecting to %s (%s)", peer.address, peer.key)
            try:
                stats = await self.sync.replicate(peer.host, peer.port, server_key, live=True, progress=progress)
            except PEER_FAILURES as exc:
                await self._failed(peer, _describe(exc), seen[0] if seen else None,
                                   credit=not isinstance(exc, PeerMisbehaved))
            except Exception as exc:
                log.exception("the session with %s failed on our side", peer.address)
                await self._failed(peer, f"internal error: {_describe(exc)}", None, credit=False)
            else:
                await self._ended(peer, stats)
        except SQLAlchemyError as exc:
            log.warning("could not record how the session with %s went: %s", peer.address, exc)

    async def _ended(self, peer: Peer, stats: SessionStats) -> None:
        now = self.clock()
        wait = reconnect_ms(self.random())
        log.info("session with %s ended (received %d, %d new; sent %d); calling back in %.0f s",
                 peer.address, stats.received, stats.stored, stats.sent, wait / 1000)
        async with self.db.write() as conn:
            await record_success(conn, peer.id, now_ms=now, key=peer.key or "", received=stats.stored,
                                 sent=stats.sent, next_attempt=now + wait)

    async def _failed(self, peer: Peer, error: str, stats: SessionStats | None, *, credit: bool) -> None:
        now = self.clock()
        # A session that moved entries before it broke worked: it is counted, and the
        # backoff starts again from the first step. A peer that misbehaved gets no credit.
        moved = credit and stats is not None and stats.stored + stats.sent > 0
        failures = 1 if moved else peer.failures + 1
        wait = backoff_ms(failures, self.random())
        log.info("%s failed (%d in a row), next attempt in %.0f s: %s",
                 peer.address, failures, wait / 1000, error)
        async with self.db.write() as conn:
            if moved and stats is not None:
                await record_success(conn, peer.id, now_ms=now, key=peer.key or "",
                                     received=stats.stored, sent=stats.sent)
            await record_failure(conn, peer.id, now_ms=now, error=error, next_attempt=now + wait)


def _describe(exc: BaseException) -> str:
    """The error as the peers table shows it: OSError and TimeoutError often say nothing alone."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
