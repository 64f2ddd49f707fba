"""The RSA keys hosted identities sign ActivityPub requests with (sealed private halves). SQL only."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import actor_keys
from weft.store.sql import insert_ignoring

__all__ = ["StoredActorKey", "actor_key", "public_keys", "save_actor_key"]

StoredActorKey = tuple[bytes, str]   # (sealed private PEM, public PEM)


async def actor_key(conn: AsyncConnection, identity: int) -> StoredActorKey | None:
    row = (await conn.execute(select(actor_keys.c.private_sealed, actor_keys.c.public_pem)
                              .where(actor_keys.c.identity == identity))).first()
    return None if row is None else (bytes(row[0]), str(row[1]))


async def public_keys(conn: AsyncConnection, identities: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(identities))
    if not wanted:
        return {}
    rows = await conn.execute(select(actor_keys.c.identity, actor_keys.c.public_pem)
                              .where(actor_keys.c.identity.in_(wanted)))
    return {identity: pem for identity, pem in rows.all()}


async def save_actor_key(conn: AsyncConnection, identity: int, sealed: bytes, public_pem: str,
                         now_ms: int) -> StoredActorKey:
    """Keep this key unless the identity has one already (two workers racing to make one):
    returns the key that stands."""
    await conn.execute(insert_ignoring(conn, actor_keys, "identity"),
                       [{"identity": identity, "private_sealed": sealed, "public_pem": public_pem,
                         "created_at": now_ms}])
    held = await actor_key(conn, identity)
    if held is None:   # pragma: no cover - the insert above or an earlier one made it
        raise RuntimeError("actor key vanished in its own transaction")
    return held
