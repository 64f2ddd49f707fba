"""Who follows, blocks and mutes whom, as one person sees it of others. SQL only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import (
    BLOCK,
    FOLLOW,
    MUTE,
    RELATION_CODES,
    follow_grants,
    identities,
    profiles,
    relations,
)
from weft.store.social import follows_effectively

__all__ = ["RelationRow", "follow_request_rows", "follower_rows", "following_rows", "known_identities", "relation_rows",
           "relation_targets"]


@dataclass(frozen=True)
class RelationRow:
    """``me``'s relation to ``other``."""

    other: int
    following: bool          # me follows other and, if other is locked, was let in
    requested: bool          # me asked to follow other, who is locked and has not answered
    followed_by: bool        # other follows me (let in, if I am locked)
    blocking: bool
    blocked_by: bool
    muting: bool
    requested_by: bool = False   # other asked to follow me (locked) and I have not answered


async def _active(conn: AsyncConnection, sources: Sequence[int], targets: Sequence[int],
                  kind: int) -> set[tuple[int, int]]:
    rows = await conn.execute(select(relations.c.source, relations.c.target).where(
        relations.c.source.in_(list(sources)), relations.c.target.in_(list(targets)),
        relations.c.kind == kind, relations.c.active.is_(True)))
    return {(source, target) for source, target in rows.all()}


def _answered() -> Any:
    """SQL, for a follow in ``relations``: its target answered it (let the follower in at any
    time, or turned it away since it came)."""
    return select(follow_grants.c.source).where(
        follow_grants.c.source == relations.c.target, follow_grants.c.target == relations.c.source,
        or_(follow_grants.c.active.is_(True), follow_grants.c.ts >= relations.c.ts)).exists()


async def _unanswered(conn: AsyncConnection, sources: Sequence[int], targets: Sequence[int]) -> set[tuple[int, int]]:
    """(follower, followed) among these whose follow of a locked identity waits for an answer."""
    locked = select(profiles.c.identity).where(profiles.c.identity == relations.c.target, profiles.c.locked.is_(True))
    rows = await conn.execute(select(relations.c.source, relations.c.target).where(
        relations.c.source.in_(list(sources)), relations.c.target.in_(list(targets)), relations.c.kind == FOLLOW,
        relations.c.active.is_(True), locked.exists(), ~_answered()))
    return {(source, target) for source, target in rows.all()}


async def relation_rows(conn: AsyncConnection, me: int, others: Sequence[int]) -> list[RelationRow]:
    wanted = list(dict.fromkeys(others))
    if not wanted:
        return []
    mine = {kind: {t for s, t in await _active(conn, [me], wanted, kind)} for kind in (FOLLOW, BLOCK, MUTE)}
    theirs = {kind: {s for s, t in await _active(conn, wanted, [me], kind)} for kind in (FOLLOW, BLOCK)}
    let_in = {row for (row,) in (await conn.execute(select(relations.c.target).where(
        relations.c.source == me, relations.c.target.in_(wanted), relations.c.kind == FOLLOW,
        relations.c.active.is_(True), follows_effectively(literal(me), relations.c.target)))).all()}
    they_in = {row for (row,) in (await conn.execute(select(relations.c.source).where(
        relations.c.target == me, relations.c.source.in_(wanted), relations.c.kind == FOLLOW,
        relations.c.active.is_(True), follows_effectively(relations.c.source, literal(me))))).all()}
    asked = {target for _, target in await _unanswered(conn, [me], wanted)}
    asked_me = {source for source, _ in await _unanswered(conn, wanted, [me])}
    return [RelationRow(other=other, following=other in let_in, requested=other in asked - let_in,
                        followed_by=other in they_in, blocking=other in mine[BLOCK],
                        blocked_by=other in theirs[BLOCK], muting=other in mine[MUTE],
                        requested_by=other in asked_me - they_in)
            for other in wanted]


async def follower_rows(conn: AsyncConnection, identity: int, *, limit: int, max_id: int | None = None,
                        since_id: int | None = None) -> list[int]:
    """Identities that follow ``identity`` (let in, if it is locked), highest row first."""
    query = select(relations.c.source).where(
        relations.c.target == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True),
        follows_effectively(relations.c.source, literal(identity)))
    if max_id is not None:
        query = query.where(relations.c.source < max_id)
    if since_id is not None:
        query = query.where(relations.c.source > since_id)
    return [row for (row,) in (await conn.execute(query.order_by(relations.c.source.desc()).limit(limit))).all()]


async def following_rows(conn: AsyncConnection, identity: int, *, limit: int, max_id: int | None = None,
                         since_id: int | None = None) -> list[int]:
    """Identities ``identity`` follows (and was let in by, where locked), highest row first."""
    query = select(relations.c.target).where(
        relations.c.source == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True),
        follows_effectively(literal(identity), relations.c.target))
    if max_id is not None:
        query = query.where(relations.c.target < max_id)
    if since_id is not None:
        query = query.where(relations.c.target > since_id)
    return [row for (row,) in (await conn.execute(query.order_by(relations.c.target.desc()).limit(limit))).all()]


async def follow_request_rows(conn: AsyncConnection, identity: int, *, limit: int,
                              max_id: int | None = None) -> list[int]:
    """Who asked to follow ``identity`` (locked) and has been neither let in nor turned away since."""
    locked = (await conn.execute(select(profiles.c.locked).where(profiles.c.identity == identity))).scalar()
    if not locked:
        return []
    query = select(relations.c.source).where(
        relations.c.target == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True), ~_answered())
    if max_id is not None:
        query = query.where(relations.c.source < max_id)
    return [row for (row,) in (await conn.execute(query.order_by(relations.c.source.desc()).limit(limit))).all()]


async def relation_targets(conn: AsyncConnection, identity: int, kind: str, *, limit: int,
                           max_id: int | None = None) -> list[int]:
    """Whom ``identity`` currently blocks or mutes (``kind``), highest row first."""
    query = select(relations.c.target).where(relations.c.source == identity, relations.c.kind == RELATION_CODES[kind],
                                             relations.c.active.is_(True))
    if max_id is not None:
        query = query.where(relations.c.target < max_id)
    return [row for (row,) in (await conn.execute(query.order_by(relations.c.target.desc()).limit(limit))).all()]


async def known_identities(conn: AsyncConnection, rows: Sequence[int]) -> set[int]:
    """Which of ``rows`` are identities this node knows."""
    wanted = list(dict.fromkeys(rows))
    if not wanted:
        return set()
    return {row for (row,) in (await conn.execute(select(identities.c.id).where(identities.c.id.in_(wanted)))).all()}
