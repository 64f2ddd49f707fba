"""What this node replicates: the identities its users follow, out to a number of hops.

docs/protocol/replication.md section 1: the local identities, whom they follow, whom
those follow, and so on to ``hops``; never an identity a local user blocks, at any hop.
The clock of those identities (section 2) is their identity logs' heads and their
device logs' heads, including devices that were revoked (up to their last good seq).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.ids import is_did_weft
from weft.store.identities import identity_rows
from weft.store.schema import BLOCK, FOLLOW, identities
from weft.store.sql import select_in

__all__ = ["Clock", "clock_of", "wanted_identities"]


@dataclass(frozen=True)
class Clock:
    """Positions held: identity DID -> id of the head of its chain (None: nothing held);
    device did:key -> head seq (0: nothing held).

    A head id rather than a length: after a recovery, a chain of the same length can end
    in a different operation, and a peer must notice.
    """

    identities: dict[str, bytes | None]
    devices: dict[str, int]


async def wanted_identities(conn: AsyncConnection, hops: int, *, also: Iterable[str] = ()) -> dict[str, int]:
    also = list(also)
    """DID -> hop (0 for local identities and for ``also``, 1 for whom they follow, ...)."""
    local = {row_id: did for row_id, did in (await conn.execute(
        select(identities.c.id, identities.c.did).where(identities.c.local.is_(True)))).all()}
    blocked = {target for (target,) in await select_in(
        conn, f"SELECT target FROM relations WHERE kind = {BLOCK} AND active AND source {{in}}", sorted(local))}
    extra = await _rows_of(conn, also)
    hop_of: dict[int, int] = {row_id: 0 for row_id in [*local, *extra] if row_id not in blocked or row_id in local}
    frontier = set(local)
    for hop in range(1, hops + 1):
        if not frontier:
            break
        followed = {target for (target,) in await select_in(
            conn, f"SELECT target FROM relations WHERE kind = {FOLLOW} AND active AND source {{in}}",
            sorted(frontier))}
        frontier = {target for target in followed if target not in hop_of and target not in blocked}
        hop_of.update(dict.fromkeys(frontier, hop))
    dids = await _dids_of(conn, hop_of)
    # Only weft identities replicate: a followed Fediverse actor (an IRI) is federation's business.
    wanted = {dids[row_id]: hop for row_id, hop in hop_of.items() if is_did_weft(dids[row_id])}
    blocked_dids = set((await _dids_of(conn, blocked)).values())
    # Asked for by DID before this node holds anything of it: wanted all the same.
    wanted.update({did: 0 for did in also if did not in wanted and did not in blocked_dids})
    return wanted


async def clock_of(conn: AsyncConnection, dids: Iterable[str]) -> Clock:
    """This node's positions for the identity logs and device logs of ``dids`` (0: wanted, none held)."""
    wanted = sorted(set(dids))
    rows = await identity_rows(conn, wanted)
    lengths: dict[str, bytes | None] = dict.fromkeys(wanted)
    keys: set[str] = set()
    for did, (_, state) in rows.items():
        if state is not None:
            lengths[did] = state.head
            keys.update(state.devices)
            keys.update(state.revoked)
    heads = dict.fromkeys(sorted(keys), 0)
    for key, seq in await select_in(conn, "SELECT key, head_seq FROM devices WHERE key {in}", sorted(keys)):
        heads[key] = seq
    return Clock(lengths, heads)


async def _rows_of(conn: AsyncConnection, dids: Iterable[str]) -> list[int]:
    wanted = sorted(set(dids))
    return [row_id for (row_id,) in await select_in(conn, "SELECT id FROM identities WHERE did {in}", wanted)]


async def _dids_of(conn: AsyncConnection, row_ids: Iterable[int]) -> dict[int, str]:
    rows = await select_in(conn, "SELECT id, did FROM identities WHERE id {in}", sorted(set(row_ids)))
    return {row_id: did for row_id, did in rows}

