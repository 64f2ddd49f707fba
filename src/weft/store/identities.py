"""The identities a node knows: their operations, current state, and which are local."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.identity import HeldOp, IdentityLog, IdentityState, decode_op
from weft.core.ids import parse_entry_id
from weft.store.schema import identities, identity_ops
from weft.store.sql import insert_ignoring, select_in

__all__ = [
    "ensure_identities",
    "held_ops",
    "identities_of_ops",
    "identity_of_op",
    "identity_rows",
    "load_log",
    "load_logs",
    "local_identity_ids",
    "mark_local",
    "save_log",
    "save_logs",
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
    ordered = sorted(wanted)
    await conn.execute(insert_ignoring(conn, identities, "did"), [{"did": did} for did in ordered])
    return dict(await select_in(conn, "SELECT did, id FROM identities WHERE did {in}", ordered))


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
    return (await load_logs(conn, [identity_id], now_ms))[identity_id]


async def load_logs(conn: AsyncConnection, identity_ids: Iterable[int], now_ms: int) -> dict[int, IdentityLog]:
    """The identity logs of these identities (empty logs for those with no operations yet)."""
    wanted = sorted(set(identity_ids))
    held: dict[int, list[HeldOp]] = {identity_id: [] for identity_id in wanted}
    rows = await select_in(conn, "SELECT identity, raw, received_at FROM identity_ops "
                                 "WHERE position IS NOT NULL AND identity {in} ORDER BY identity, position", wanted)
    for identity_id, raw, received_at in rows:
        held[identity_id].append(HeldOp(decode_op(bytes(raw)), received_at))
    return {identity_id: IdentityLog.replay(ops, now_ms) for identity_id, ops in held.items()}


async def save_log(conn: AsyncConnection, identity_id: int, log: IdentityLog,
                   superseded: list[tuple[HeldOp, bytes]]) -> None:
    await save_logs(conn, {identity_id: log}, {identity_id: superseded})


async def save_logs(conn: AsyncConnection, logs: dict[int, IdentityLog],
                    superseded: dict[int, list[tuple[HeldOp, bytes]]]) -> None:
    """Write these logs' operations and states, a few statements for all of them.

    Operations are inserted if new (a superseded one too, kept as evidence with no
    position), then every held operation gets its current position (or none, and what
    superseded it), then each identity its state.
    """
    if not logs:
        return
    rows: list[dict[str, Any]] = []
    positions: list[dict[str, Any]] = []
    for identity_id, log in logs.items():
        for index, held in enumerate(log.ops):
            rows.append({"identity": identity_id, "position": index, "op_id": held.op.id, "raw": held.op.raw,
                         "received_at": held.received_at})
            positions.append({"b_op": held.op.id, "b_position": index, "b_by": None})
        for held, by in superseded.get(identity_id, []):
            rows.append({"identity": identity_id, "position": None, "op_id": held.op.id, "raw": held.op.raw,
                         "received_at": held.received_at})
            positions.append({"b_op": held.op.id, "b_position": None, "b_by": by})
    await conn.execute(insert_ignoring(conn, identity_ops, "op_id"), rows)
    await conn.execute(update(identity_ops).where(identity_ops.c.op_id == bindparam("b_op"))
                       .values(position=bindparam("b_position"), superseded_by=bindparam("b_by")), positions)
    await conn.execute(update(identities).where(identities.c.id == bindparam("b_id"))
                       .values(state=bindparam("b_state")),
                       [{"b_id": identity_id, "b_state": orjson.dumps(log.state.to_json())}
                        for identity_id, log in logs.items()])


async def held_ops(conn: AsyncConnection, did: str) -> list[bytes]:
    """The signed bytes of a DID's current chain, genesis first."""
    rows = await conn.execute(
        select(identity_ops.c.raw).join(identities, identities.c.id == identity_ops.c.identity)
        .where(identities.c.did == did, identity_ops.c.position.is_not(None))
        .order_by(identity_ops.c.position))
    return [raw for (raw,) in rows.all()]


async def identity_of_op(conn: AsyncConnection, op_id: bytes) -> int | None:
    return (await identities_of_ops(conn, [op_id])).get(op_id)


async def identities_of_ops(conn: AsyncConnection, op_ids: Iterable[bytes]) -> dict[bytes, int]:
    """op id -> identity row id, for the operations held among ``op_ids``."""
    rows = await select_in(conn, "SELECT op_id, identity FROM identity_ops WHERE op_id {in}", sorted(set(op_ids)))
    return {bytes(op_id): identity_id for op_id, identity_id in rows}


async def local_identity_ids(conn: AsyncConnection) -> set[int]:
    rows = await conn.execute(select(identities.c.id).where(identities.c.local.is_(True)))
    return {row_id for (row_id,) in rows.all()}


async def mark_local(conn: AsyncConnection, did: str) -> None:
    await conn.execute(update(identities).where(identities.c.did == did).values(local=True))
