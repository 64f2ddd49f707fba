"""What this node wants and holds, as replication sessions ask for it (the store side of
``weft.sync.replication``): shared by every session with every peer.

docs/protocol/replication.md section 1: the identities local users follow out to ``hops``,
never one they block; and what a peer lacks of what we hold, identity operations by chain
and entries by seq, never of a blocked identity (a node does not forward what it refuses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from weft.core.ids import entry_id_bytes
from weft.ingest import Ingest
from weft.store import identities as identity_store
from weft.store.database import Database
from weft.store.entries import DeviceHead, device_heads, log_range
from weft.store.schema import BLOCK, identities, relations
from weft.store.wants import clock_of, wanted_identities
from weft.sync.replication_messages import Positions

__all__ = ["Blocked", "Replicator"]


class Blocked:
    """Identities a local user blocks, by row id and by DID."""

    def __init__(self, rows: Sequence[tuple[int, str]]) -> None:
        self.ids = {row_id for row_id, _ in rows}
        self.dids = {did for _, did in rows}


class Replicator:
    def __init__(self, db: Database, ingest: Ingest, clock: Callable[[], int], *, hops: int = 2,
                 also: tuple[str, ...] = ()) -> None:
        self.db = db
        self.ingest = ingest
        self.clock = clock
        self.hops = hops
        self.also = also

    async def wanted(self) -> Positions:
        """The logs this node wants and how far it holds them (its clock)."""
        async with self.db.read() as conn:
            dids = await wanted_identities(conn, self.hops, also=self.also)
            clock = await clock_of(conn, dids)
        return Positions(clock.identities, clock.devices)

    async def blocked(self) -> Blocked:
        locals_ = select(identities.c.id).where(identities.c.local.is_(True))
        async with self.db.read() as conn:
            rows = (await conn.execute(
                select(identities.c.id, identities.c.did).join(relations, relations.c.target == identities.c.id)
                .where(relations.c.kind == BLOCK, relations.c.active.is_(True),
                       relations.c.source.in_(locals_)))).all()
        return Blocked([(row_id, did) for row_id, did in rows])

    async def heads(self, dids: Sequence[str]) -> dict[str, bytes | None]:
        """The head operation of each identity log held among ``dids``."""
        async with self.db.read() as conn:
            rows = await identity_store.identity_rows(conn, dids)
        return {did: state.head if state else None for did, (_, state) in rows.items()}

    async def ops_after(self, sent: dict[str, bytes | None], blocked: Blocked) -> list[bytes]:
        """The operations a peer lacks of the identities in ``sent`` (did -> the head it has),
        each chain in order; ``sent`` is moved to our heads. A head we do not know (the peer
        holds another branch, or more) gets the whole chain: ingest keeps what is new."""
        behind = [did for did in sent if did not in blocked.dids]
        heads = await self.heads(behind)
        ops: list[bytes] = []
        for did in behind:
            if heads.get(did) is None or heads[did] == sent.get(did):
                continue
            async with self.db.read() as conn:
                chain = await identity_store.held_ops(conn, did)
            ids = [entry_id_bytes(raw) for raw in chain]
            their_head = sent[did]
            start = ids.index(their_head) + 1 if their_head is not None and their_head in ids else 0
            ops.extend(chain[start:])
            sent[did] = ids[-1]
        return ops

    async def device_heads(self, keys: Sequence[str], blocked: Blocked) -> dict[str, DeviceHead]:
        """Where the device logs among ``keys`` stand here, but for blocked identities'."""
        async with self.db.read() as conn:
            heads = await device_heads(conn, keys)
        return {key: head for key, head in heads.items() if head.identity not in blocked.ids}

    async def page(self, key: str, after: int, limit: int) -> list[tuple[bytes, bytes | None]]:
        """Up to ``limit`` entries of a device log after seq ``after``, as they are sent:
        content that was deleted or has expired is not there (only its header)."""
        async with self.db.read() as conn:
            return await log_range(conn, key, after, limit, now_ms=self.clock())
