"""One running node: a data directory, its database, its ingest path and its keys.

The node assembles the pieces; it is where the CLI and the HTTP faces get
their work done. Every write it makes (a post, a follow, an identity
operation) goes through ``Ingest`` like anything a peer would send.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from weft.config import NodeConfig
from weft.core.content import encode_content
from weft.core.entry import Entry, sign_entry
from weft.core.identity import IdentityState
from weft.core.ids import entry_id_text, parse_did
from weft.core.keys import SigningKey
from weft.errors import NoIdentity, NotFound, UsageError, WeftError
from weft.ingest import Ingest, Outcome
from weft.keyring import Keyring, write_secret
from weft.media.blobs import BlobStore
from weft.media.upkeep import MediaUpkeep
from weft.store import identities as identity_store
from weft.store import queries
from weft.store.blob_refs import named_by_rows
from weft.store.database import Database
from weft.store.entries import device_heads, log_range
from weft.store.maintenance import checkpoint
from weft.store.migrate import migrate
from weft.store.schema import RELATION_CODES
from weft.store.views import apply_delete, expired_posts
from weft.sync.service import SyncService

__all__ = ["LocalIdentity", "Node", "system_clock"]


def system_clock() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class LocalIdentity:
    """Who this data directory writes as: an identity and this device's key in it."""

    did: str
    device: SigningKey
    device_name: str


class Node:
    """A data directory opened for work. Use ``async with Node.open(...) as node``."""

    def __init__(self, config: NodeConfig, db: Database, ingest: Ingest,
                 clock: Callable[[], int], random: Callable[[int], bytes]) -> None:
        self.config = config
        self.db = db
        self.ingest = ingest
        self.clock = clock
        self.random = random
        self.keys = Keyring(config.data_dir)
        self._device_locks: dict[str, asyncio.Lock] = {}
        # Uploaded images (weft.social.uploads writes them, /media serves them): deleted and
        # expired posts' images leave with their posts.
        self.media = MediaUpkeep(db, BlobStore(config.data_dir / "media"), clock)
        ingest.on_blobs_freed = self.media.release

    @classmethod
    @asynccontextmanager
    async def open(cls, config: NodeConfig, *, clock: Callable[[], int] = system_clock,
                   random: Callable[[int], bytes] = os.urandom) -> AsyncIterator[Node]:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        db = await Database.open(config.database_url)
        try:
            await migrate(db)
            async with Ingest(db, clock) as ingest:
                node = cls(config, db, ingest, clock, random)
                # Expiry removes bytes, not just visibility: a node that was off when a post
                # expired (every CLI command is a short-lived node) purges it on opening.
                await node.purge_expired()
                yield node
        finally:
            await db.close()

    # -- who we are ----------------------------------------------------------

    @property
    def _identity_file(self) -> Path:
        return self.config.data_dir / "identity.json"

    def local(self) -> LocalIdentity:
        """This directory's identity; NoIdentity if ``weft init`` has not run here."""
        if not self._identity_file.exists():
            raise NoIdentity(f"no identity in {self.config.data_dir}: run 'weft init --name NAME' first")
        try:
            info = orjson.loads(self._identity_file.read_bytes())
            return LocalIdentity(info["did"], self.keys.load("device"), info["device_name"])
        except (OSError, orjson.JSONDecodeError, KeyError) as exc:
            raise WeftError(f"{self._identity_file} is unreadable: {exc}") from None

    def transport_key(self) -> SigningKey:
        """This node's key on the peer-to-peer transport (the secret handshake), made on first use.

        It names the node, not a person: one per data directory, never an identity's
        device key, so that peers learn nothing about whose node it is from the handshake.
        """
        if not self.keys.has("node"):
            key = SigningKey(self.random(32))
            self.keys.store("node", key, key.did)
        return self.keys.load("node")

    def sync_service(self, *, hops: int = 2) -> SyncService:
        """This node's gossip face: replication with peers, over its transport key."""
        return SyncService(self.db, self.ingest, self.clock, self.transport_key(), hops=hops)

    def has_identity(self) -> bool:
        return self._identity_file.exists()

    def _save_local(self, did: str, device_name: str) -> None:
        write_secret(self._identity_file, orjson.dumps({"did": did, "device_name": device_name},
                                                       option=orjson.OPT_INDENT_2).decode() + "\n")

    async def state(self, did: str | None = None) -> IdentityState:
        did = did or self.local().did
        async with self.db.read() as conn:
            rows = await identity_store.identity_rows(conn, [did])
        if did not in rows or rows[did][1] is None:
            raise NotFound(f"this node does not hold the identity log of {did}")
        state = rows[did][1]
        assert state is not None
        return state

    async def identity_row(self, did: str) -> int:
        async with self.db.read() as conn:
            rows = await identity_store.identity_rows(conn, [did])
        if did not in rows:
            raise NotFound(f"this node holds nothing of {did}")
        return rows[did][0]

    async def submit_ops(self, raws: list[bytes]) -> str:
        """Ingest identity operations made here; any rejection is an error."""
        results = await self.ingest.identity_ops(raws)
        for result in results:
            if not result.ok:
                raise WeftError(result.message or "identity operation rejected")
        did = results[-1].did
        assert did is not None
        return did

    # -- writing entries -----------------------------------------------------

    @asynccontextmanager
    async def _device_lock(self, device: str) -> AsyncIterator[None]:
        """One writer per device log, across processes too: two writers would fork the log.

        The directory's own device keeps its lock file at ``device.lock``; hosted accounts'
        web devices have one each under ``locks/``, so that accounts post side by side.
        """
        lock = self._device_locks.setdefault(device, asyncio.Lock())
        async with lock:
            if self.has_identity() and device == self.local().device.did:
                path = self.config.data_dir / "device.lock"
            else:
                path = self.config.data_dir / "locks" / f"{hashlib.sha256(device.encode()).hexdigest()[:32]}.lock"
                path.parent.mkdir(exist_ok=True)
            with path.open("a") as handle:
                await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    async def publish(self, content: dict[str, Any], *, expires: int | None = None,
                      author: LocalIdentity | None = None) -> Entry:
        """Sign ``content`` as the next entry of a device's log and ingest it.

        The device is this directory's own unless ``author`` names another identity this
        node writes for (a hosted account's web device).
        """
        me = author or self.local()
        data = encode_content(content)
        async with self._device_lock(me.device.did):
            async with self.db.read() as conn:
                head = (await device_heads(conn, [me.device.did])).get(me.device.did)
            now = self.clock()
            if expires is not None and expires <= now:
                raise UsageError("the expiry must be in the future")
            entry = sign_entry(me.device, author=me.did, seq=(head.head_seq if head else 0) + 1,
                               prev=head.head_id if head else None, ts=now, content=data,
                               expires=expires)
            outcome = await self.ingest.entry(entry.raw, data)
        _raise_unless_stored(outcome)
        return entry

    async def resolve(self, text: str) -> bytes:
        async with self.db.read() as conn:
            return await queries.resolve_entry_id(conn, text)

    async def post(self, text: str, *, reply_to: str | None = None, expires_in_ms: int | None = None,
                   visibility: str | None = None, summary: str | None = None) -> Entry:
        content: dict[str, Any] = {"type": "post", "text": text}
        if reply_to is not None:
            parent = await self.resolve(reply_to)
            async with self.db.read() as conn:
                detail = await queries.entry_detail(conn, parent, now_ms=self.clock())
            if "post" not in detail:
                raise UsageError(f"{entry_id_text(parent)} is not a post")
            content["reply_to"] = entry_id_text(parent)
            content["root"] = detail["post"]["root"] or entry_id_text(parent)
        if visibility is not None:
            content["visibility"] = visibility
        if summary:
            content["summary"] = summary
        tags = sorted({word[1:].lower() for word in text.split() if word.startswith("#") and len(word) > 1})
        if tags:
            content["tags"] = tags[:64]
        expires = self.clock() + expires_in_ms if expires_in_ms is not None else None
        return await self.publish(content, expires=expires)

    async def _own_post(self, text: str) -> bytes:
        target = await self.resolve(text)
        async with self.db.read() as conn:
            detail = await queries.entry_detail(conn, target, now_ms=self.clock())
        if detail["header"]["author"] != self.local().did:
            raise UsageError("only the author can edit or delete an entry")
        return target

    async def edit(self, target_text: str, text: str) -> Entry:
        target = await self._own_post(target_text)
        return await self.publish({"type": "edit", "target": entry_id_text(target), "text": text})

    async def delete(self, target_text: str) -> Entry:
        target = await self._own_post(target_text)
        return await self.publish({"type": "delete", "target": entry_id_text(target)})

    async def react(self, kind: str, target_text: str) -> Entry:
        target = await self.resolve(target_text)
        return await self.publish({"type": kind, "target": entry_id_text(target)})

    async def relate(self, kind: str, did: str) -> Entry:
        did = parse_did(did)
        if did == self.local().did:
            raise UsageError(f"you cannot {kind} yourself")
        return await self.publish({"type": kind, "target": did})

    async def set_profile(self, **fields: Any) -> Entry:
        me = self.local()
        async with self.db.read() as conn:
            current = (await queries.profile_of(conn, me.did))["profile"] if await self._held(me.did) else {}
        merged = {**current, **{k: v for k, v in fields.items() if v is not None}, "type": "profile"}
        return await self.publish(merged)

    async def _held(self, did: str) -> bool:
        async with self.db.read() as conn:
            return did in await identity_store.identity_rows(conn, [did])

    # -- reading -------------------------------------------------------------

    async def feed(self, *, limit: int = 20, before_ts: int | None = None) -> list[queries.PostView]:
        viewer = await self.identity_row(self.local().did)
        async with self.db.read() as conn:
            return await queries.feed(conn, viewer, limit=limit, before_ts=before_ts, now_ms=self.clock())

    async def thread(self, text: str) -> list[tuple[int, queries.PostView]]:
        target = await self.resolve(text)
        async with self.db.read() as conn:
            return await queries.thread(conn, target, now_ms=self.clock())

    async def show(self, text: str) -> dict[str, Any]:
        """Everything this node shows of one entry (expired content never)."""
        target = await self.resolve(text)
        async with self.db.read() as conn:
            return await queries.entry_detail(conn, target, now_ms=self.clock())

    async def profile(self, did: str | None = None) -> dict[str, Any]:
        """An identity's profile and its follow counts (NotFound if this node holds nothing of it)."""
        did = did or self.local().did
        async with self.db.read() as conn:
            return await queries.profile_of(conn, did)

    async def relations(self, kind: str) -> list[str]:
        """The DIDs this node's identity currently follows, blocks or mutes (``kind``)."""
        if kind not in RELATION_CODES:
            raise UsageError(f"unknown relation {kind!r}: choose from {', '.join(RELATION_CODES)}")
        viewer = await self.identity_row(self.local().did)
        async with self.db.read() as conn:
            return await queries.relations_of(conn, viewer, RELATION_CODES[kind])

    async def identity_ops(self, did: str) -> list[bytes]:
        """The signed operations of an identity's current chain, genesis first."""
        async with self.db.read() as conn:
            ops = await identity_store.held_ops(conn, did)
        if not ops:
            raise NotFound(f"this node does not hold the identity log of {did}")
        return ops

    async def device_log(self, device: str, *, after: int = 0, limit: int = 100,
                         public_only: bool = False) -> list[tuple[bytes, bytes | None]]:
        """(header, content) of a device log's entries after seq ``after``, in seq order
        (``public_only``: without the content of followers-only and direct posts)."""
        async with self.db.read() as conn:
            if device not in await device_heads(conn, [device]):
                raise NotFound(f"this node holds no log of device {device[:80]}")
            return await log_range(conn, device, after, limit, now_ms=self.clock(), public_only=public_only)

    # -- upkeep --------------------------------------------------------------

    async def purge_expired(self) -> int:
        """Remove the content of expired entries now (reads already hide them), and their
        images; then the media upkeep (uploads cut off, the sweep when due)."""
        now = self.clock()
        async with self.db.write() as conn:
            doomed = await expired_posts(conn, now)
            freed = await named_by_rows(conn, [row_id for row_id, _ in doomed])  # before the content goes
            for row_id, entry_id in doomed:
                await apply_delete(conn, row_id, entry_id)
        if doomed or self.db.checkpoint_owed:
            await checkpoint(self.db)
        await self.media.release(freed)
        await self.media.upkeep()
        return len(doomed)


def _raise_unless_stored(outcome: Outcome) -> None:
    if outcome.status != "stored":
        raise WeftError(outcome.message or f"entry was not stored ({outcome.status})")
