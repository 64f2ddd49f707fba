"""Where identities moved (the ``moves`` table of migration 0010), and whom a move concerns
here: the hosted people who follow the one who moved. SQL only; what a move is and who
may make one are decision 0007's "Migration" and weft.social.moving's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.identities import ensure_identities
from weft.store.schema import FOLLOW, accounts, identities, moves, relations
from weft.store.sql import upsert

__all__ = ["MoveFold", "fold_moves", "local_followers", "moved_to", "moved_to_did"]


@dataclass(frozen=True)
class MoveFold:
    """A ``move`` entry being folded: its row, author row, ts, and the person it names."""

    row_id: int
    author_id: int
    ts: int
    target: str      # a did:weft or an actor IRI


async def fold_moves(conn: AsyncConnection, items: Sequence[MoveFold]) -> None:
    """Record where each author moved: the newest move by ts wins (ties: the later folded),
    as relations and profiles keep theirs. A move to oneself records nothing."""
    targets = await ensure_identities(conn, [item.target for item in items])
    rows = [{"identity": item.author_id, "target": targets[item.target], "entry": item.row_id, "ts": item.ts}
            for item in items if targets[item.target] != item.author_id]
    if rows:
        await conn.execute(upsert(conn, moves, ["identity"], ["target", "entry", "ts"], newer_than="ts"), rows)


async def moved_to(conn: AsyncConnection, identity_ids: Iterable[int]) -> dict[int, int]:
    """identity -> the identity it moved to, for those of ``identity_ids`` that moved."""
    wanted = sorted(set(identity_ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        rows = await conn.execute(select(moves.c.identity, moves.c.target)
                                  .where(moves.c.identity.in_(wanted[start:start + 500])))
        found.update((int(source), int(target)) for source, target in rows.all())
    return found


async def moved_to_did(conn: AsyncConnection, identity: int) -> str | None:
    """The DID (or actor IRI) of whom ``identity`` moved to, if it did."""
    found = (await conn.execute(select(identities.c.did).join(moves, moves.c.target == identities.c.id)
                                .where(moves.c.identity == identity))).scalar()
    return None if found is None else str(found)


async def local_followers(conn: AsyncConnection, identity: int) -> list[int]:
    """The account ids of the active hosted people whose follow of ``identity`` is on, let
    in or still waiting: whom a move of ``identity`` takes along."""
    rows = await conn.execute(
        select(accounts.c.id).join(relations, relations.c.source == accounts.c.identity)
        .where(relations.c.target == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True),
               accounts.c.state == "active").order_by(accounts.c.id))
    return [int(account) for (account,) in rows.all()]
