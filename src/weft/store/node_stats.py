"""Counts a node publishes about itself (NodeInfo's usage). SQL only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import accounts, posts

__all__ = ["Usage", "usage"]

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def usage(conn: AsyncConnection, now_ms: int) -> Usage:
    """Active hosted accounts, those who posted in the last 30 and 180 days, and their posts."""
    hosted = select(accounts.c.identity).where(accounts.c.state == "active")
    users = (await conn.execute(select(func.count()).select_from(accounts)
                                .where(accounts.c.state == "active"))).scalar_one()

    async def posted_since(days: int) -> int:
        return int((await conn.execute(select(func.count(func.distinct(posts.c.author))).where(
            posts.c.author.in_(hosted), posts.c.ts > now_ms - days * DAY_MS))).scalar_one())

    local = (await conn.execute(select(func.count()).select_from(posts).where(
        posts.c.author.in_(hosted), posts.c.deleted.is_(False)))).scalar_one()
    return Usage(int(users), await posted_since(30), await posted_since(180), int(local))
