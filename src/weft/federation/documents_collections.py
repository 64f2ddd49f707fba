"""A hosted account's collections as ActivityPub serves them: outbox, followers, following,
featured.

Each is an OrderedCollection with its ``totalItems`` and a link to its ``first`` page, as
Mastodon serves them; pages go newest first and link to the ``next`` with ``max_id``:

- outbox: the Create of each public and unlisted post and the Announce of each boost,
  20 a page, built by the outbound mapping (so a page holds what was delivered);
- followers and following: actor IRIs, 40 a page: remote actors' own, and our actor URLs
  for the people hosted here. A weft identity not hosted here has no actor and is left out
  of the pages, though counted;
- featured: empty, since weft has no pinned posts.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.federation.as2_build_actors import ordered_collection, ordered_collection_page
from weft.federation.outbound import load_activity
from weft.federation.outbound_load import parties
from weft.federation.urls import collection_url
from weft.store import relationships
from weft.store.people import person
from weft.store.schema import BOOST, VISIBILITY_CODES, identities, posts, reactions
from weft.store.statuses import alive_at, beyond, cursor_of, status_id

__all__ = ["OUTBOX_PAGE", "PEOPLE_PAGE", "collection"]

OUTBOX_PAGE: Final = 20
PEOPLE_PAGE: Final = 40
_SHOWN: Final = (VISIBILITY_CODES["public"], VISIBILITY_CODES["unlisted"])


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) <= 19 else None


async def _outbox_rows(conn: AsyncConnection, identity: int, now_ms: int,
                       cursor: tuple[int, int] | None) -> list[tuple[int, int]]:
    """(ts, entry row) of the account's shown posts and boosts, newest first, older than ``cursor``."""
    post_where = [posts.c.author == identity, posts.c.visibility.in_(_SHOWN), alive_at(now_ms)]
    boost_where = [reactions.c.author == identity, reactions.c.kind == BOOST]
    if cursor is not None:
        post_where.append(beyond(posts.c.ts, posts.c.entry, cursor, older=True))
        boost_where.append(beyond(reactions.c.ts, reactions.c.entry, cursor, older=True))
    found = [*(await conn.execute(select(posts.c.ts, posts.c.entry).where(*post_where)
                                  .order_by(posts.c.ts.desc(), posts.c.entry.desc()).limit(OUTBOX_PAGE))).all()]
    found += (await conn.execute(select(reactions.c.ts, reactions.c.entry).where(*boost_where)
                                 .order_by(reactions.c.ts.desc(), reactions.c.entry.desc())
                                 .limit(OUTBOX_PAGE))).all()
    return sorted(((int(ts), int(row)) for ts, row in found), reverse=True)[:OUTBOX_PAGE]


async def _outbox_total(conn: AsyncConnection, identity: int, now_ms: int) -> int:
    shown = (await conn.execute(select(func.count()).select_from(posts).where(
        posts.c.author == identity, posts.c.visibility.in_(_SHOWN), alive_at(now_ms)))).scalar_one()
    boosted = (await conn.execute(select(func.count()).select_from(reactions).where(
        reactions.c.author == identity, reactions.c.kind == BOOST))).scalar_one()
    return int(shown) + int(boosted)


async def _outbox(conn: AsyncConnection, base: str, identity: int, url: str, now_ms: int,
                  max_id: int | None) -> dict[str, Any]:
    cursor = await cursor_of(conn, max_id) if max_id is not None else None
    rows = await _outbox_rows(conn, identity, now_ms, cursor)
    items = [built.activity for _, row in rows if (built := await load_activity(conn, base, row)) is not None]
    next_page = f"{url}?page=true&max_id={status_id(*rows[-1])}" if len(rows) == OUTBOX_PAGE else None
    page_id = f"{url}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    return ordered_collection_page(id=page_id, part_of=url, items=items, next=next_page)


async def _people(conn: AsyncConnection, base: str, identity: int, url: str, name: str,
                  max_id: int | None) -> dict[str, Any]:
    lister = relationships.follower_rows if name == "followers" else relationships.following_rows
    rows = await lister(conn, identity, limit=PEOPLE_PAGE, max_id=max_id)
    dids = dict((await conn.execute(select(identities.c.id, identities.c.did)
                                    .where(identities.c.id.in_(rows or [-1])))).all())
    known = await parties(conn, base, [dids[row] for row in rows if row in dids])
    items: list[dict[str, Any] | str] = [known[dids[row]].iri for row in rows
                                         if row in dids and dids[row] in known]
    next_page = f"{url}?page=true&max_id={rows[-1]}" if len(rows) == PEOPLE_PAGE else None
    page_id = f"{url}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    return ordered_collection_page(id=page_id, part_of=url, items=items, next=next_page)


async def collection(conn: AsyncConnection, base: str, identity: int, username: str, name: str, *,
                     page: bool, max_id: str | None, now_ms: int) -> dict[str, Any] | None:
    """The collection ``name`` (outbox, followers, following, collections/featured) of the
    account, or one page of it; None if it has no such collection."""
    url = collection_url(base, username, name)
    cursor = _int(max_id)
    if name == "collections/featured":
        return ordered_collection(id=url, total_items=0, items=[])
    if name == "outbox":
        if page:
            return await _outbox(conn, base, identity, url, now_ms, cursor)
        return ordered_collection(id=url, total_items=await _outbox_total(conn, identity, now_ms),
                                  first=f"{url}?page=true")
    if name in ("followers", "following"):
        if page:
            return await _people(conn, base, identity, url, name, cursor)
        found = await person(conn, identity, now_ms=now_ms)
        total = 0 if found is None else (found.followers if name == "followers" else found.following)
        return ordered_collection(id=url, total_items=total, first=f"{url}?page=true")
    return None

