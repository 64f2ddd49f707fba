"""The identities a node knows: their operations, current state, and which are local."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.identity import HeldOp, IdentityLog, IdentityState, decode_op
from weft.core.ids import parse_entry_id
from weft.store.schema import identities, identity_ops
from weft.store.sql import insert_ignoring, select_in

__all__ = [
    "ensure_identities",
    "held_ops",
    "identity_of_op",
    "identity_rows",
    "load_log",
    "local_identity_ids",
    "mark_local",
    "save_log",
    "state_from_json",
]


def state_from_json(data: bytes) -> IdentityState:
    raw = orjson.loads(data)
    return IdentityState(
        did=raw["did"], head=parse_entry_id(raw["head"]), length=raw["length"], ts=raw["ts"],
        rotation_keys=tuple(raw["rotation_keys"]), devices=raw["devices"],
        revoked=raw["revoked"], handles=tuple(raw["handles"]), services=raw["services"],
    )


async def ensure_identities(conn: AsyncConnection, dids: Iterable[str]) -> dict[str, int]:
    """Row ids for these DIDs, creating placeholder rows for DIDs only referenced so far."""
    wanted = set(dids)
    if not wanted:
        return {}
    await conn.execute(insert_ignoring(conn, identities, "did"), [{"did": did} for did in sorted(wanted)])
    rows = await conn.execute(select(identities.c.did, identities.c.id).where(identities.c.did.in_(wanted)))
    return {did: row_id for did, row_id in rows.all()}


# Parsed states by their stored bytes: the same identities come back batch after batch, and
# parsing their JSON cost more than fetching it. Keyed by the bytes, so never stale.
_PARSED: dict[bytes, IdentityState] = {}
_PARSED_MAX = 20_000


def _parsed_state(data: bytes) -> IdentityState:
    state = _PARSED.get(data)
    if state is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        state = _PARSED[data] = state_from_json(data)
    return state


async def identity_rows(conn: AsyncConnection, dids: Iterable[str]) -> dict[str, tuple[int, IdentityState | None]]:
    """Row id and current state of each DID this node holds a row for."""
    rows = await select_in(conn, "SELECT did, id, state FROM identities WHERE did {in}", list(set(dids)))
    return {did: (row_id, _parsed_state(bytes(state)) if state else None) for did, row_id, state in rows}


async def load_log(conn: AsyncConnection, identity_id: int, now_ms: int) -> IdentityLog:
    rows = await conn.execute(
        select(identity_ops.c.raw, identity_ops.c.received_at)
        .where(identity_ops.c.identity == identity_id, identity_ops.c.position.is_not(None))
        .order_by(identity_ops.c.position))
    return IdentityLog.replay([HeldOp(decode_op(raw), at) for raw, at in rows.all()], now_ms)


async def save_log(conn: AsyncConnection, identity_id: int, log: IdentityLog,
                   superseded: list[tuple[HeldOp, bytes]]) -> None:
    """Write the log's ops (new ones inserted, positions refreshed) and its state."""
    for held, by in superseded:
        await conn.execute(update(identity_ops).where(identity_ops.c.op_id == held.op.id)
                           .values(position=None, superseded_by=by))
    await conn.execute(insert_ignoring(conn, identity_ops, "op_id"), [
        {"identity": identity_id, "position": index, "op_id": held.op.id, "raw": held.op.raw,
         "received_at": held.received_at}
        for index, held in enumerate(log.ops)])
    for index, held in enumerate(log.ops):
        await conn.execute(update(identity_ops)
                           .where(identity_ops.c.op_id == held.op.id,
                                  identity_ops.c.position.is_distinct_from(index))
                           .values(position=index, superseded_by=None))
    await conn.execute(update(identities).where(identities.c.id == identity_id).values(
        state=orjson.dumps(log.state.to_json())))


async def held_ops(conn: AsyncConnection, did: str) -> list[bytes]:
    """The signed bytes of a DID's current chain, genesis first."""
    rows = await conn.execute(
        select(identity_ops.c.raw).join(identities, identities.c.id == identity_ops.c.identity)
        .where(identities.c.did == did, identity_ops.c.position.is_not(None))
        .order_by(identity_ops.c.position))
    return [raw for (raw,) in rows.all()]


async def identity_of_op(conn: AsyncConnection, op_id: bytes) -> int | None:
    row = await conn.execute(select(identity_ops.c.identity).where(identity_ops.c.op_id == op_id))
    found = row.first()
    return None if found is None else int(found[0])


async def local_identity_ids(conn: AsyncConnection) -> set[int]:
    rows = await conn.execute(select(identities.c.id).where(identities.c.local.is_(True)))
    return {row_id for (row_id,) in rows.all()}


async def mark_local(conn: AsyncConnection, did: str) -> None:
    await conn.execute(update(identities).where(identities.c.did == did).values(local=True))
