"""A person's home timeline: their posts and boosts and those of whom they follow, merged
by time, as Mastodon's home. SQL only (and the merge of its two lists).

Posts come from ``weft.store.statuses.dated_timeline``; boosts by the same people that the
viewer may be shown there (``weft.store.boosts.boosts_at_home``) are merged with them by
(ts, entry row), so that a status id of either kind pages through both
(``weft.store.statuses.cursor_of``).

Within a page, as on Mastodon, a boost is left out when its post is itself on the page or
a newer boost of the same post is.

Cost: when the posts fill the page, only boosts at or after its oldest post can enter it,
so the boosts read are those of a short span of time, each followed author's found by the
index of reactions by (author, ts).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.account_statuses import TimelineItem
from weft.store.boosts import boost_entry, boosts_at_home, joined
from weft.store.schema import posts, reactions
from weft.store.statuses import Page, beyond, cursor_of, dated_timeline

__all__ = ["MAX_BOOST_BATCHES", "home_timeline"]

MAX_BOOST_BATCHES: Final = 4   # a page whose boosts are nearly all of posts on it may come short

Cursor = tuple[int, int]           # (ts, entry row)
Candidate = tuple[int, int, TimelineItem]


async def home_timeline(conn: AsyncConnection, viewer: int, page: Page, *, now_ms: int) -> list[TimelineItem]:
    """A page of ``viewer``'s home timeline, newest first (``page``: Mastodon's max_id,
    since_id, min_id and limit)."""
    limit = max(1, min(page.limit, 80))
    newest_first = page.min_id is None   # min_id: the statuses just after it, not the newest ones
    bounds: list[tuple[Cursor, bool]] = []
    if page.max_id is not None:
        bounds.append((await cursor_of(conn, page.max_id), True))
    after = page.min_id if page.min_id is not None else page.since_id
    if after is not None:
        bounds.append((await cursor_of(conn, after), False))

    dated = await dated_timeline(conn, "home", viewer, page, now_ms=now_ms)
    found: list[Candidate] = [(ts, row, TimelineItem(row, None)) for row, ts in dated]
    if len(found) == limit:   # the posts fill the page: a boost beyond its last post cannot enter it
        ts, row, _ = found[-1] if newest_first else found[0]
        bounds.append(((ts, row), not newest_first))

    boosts: list[Candidate] = []
    for _ in range(MAX_BOOST_BATCHES):
        batch = await _boosts(conn, viewer, bounds, newest_first, limit, now_ms)
        boosts += batch
        candidates = sorted(found + boosts, key=lambda c: (c[0], c[1]), reverse=newest_first)
        if len(batch) < limit:   # every boost in reach was read
            return _page(candidates, limit, newest_first)
        last = (batch[-1][0], batch[-1][1])
        # Boosts beyond the last one read are not known yet: the page may hold only what comes before it.
        known = [c for c in candidates if not _past((c[0], c[1]), last, newest_first)]
        chosen = _page(known, limit, newest_first)
        if len(chosen) == limit:
            return chosen
        bounds.append((last, newest_first))
    return chosen


def _past(at: Cursor, last: Cursor, newest_first: bool) -> bool:
    return at < last if newest_first else at > last


async def _boosts(conn: AsyncConnection, viewer: int, bounds: list[tuple[Cursor, bool]], newest_first: bool,
                  limit: int, now_ms: int) -> list[Candidate]:
    where = boosts_at_home(viewer, now_ms)
    for (ts, row), older in bounds:
        # The plain range on ts beside the exact bound lets the (author, ts) index do the reading.
        where += [reactions.c.ts <= ts if older else reactions.c.ts >= ts,
                  beyond(reactions.c.ts, reactions.c.entry, (ts, row), older)]
    order = ((reactions.c.ts.desc(), reactions.c.entry.desc()) if newest_first
             else (reactions.c.ts, reactions.c.entry))
    query = (select(reactions.c.entry, reactions.c.author, reactions.c.ts, boost_entry.c.entry_id,
                    posts.c.entry.label("post"))
             .select_from(joined()).where(*where).order_by(*order).limit(limit))
    return [(row.ts, row.entry, TimelineItem(row.post, (row.entry, row.author, bytes(row.entry_id), row.ts)))
            for row in (await conn.execute(query)).all()]


def _page(candidates: list[Candidate], limit: int, newest_first: bool) -> list[TimelineItem]:
    """The first ``limit`` of ``candidates`` (in the page's order) that the dedupe keeps,
    newest first: a post puts out its boosts; of a post's boosts, the newest stays."""
    chosen: dict[tuple[bool, int], Candidate] = {}
    for candidate in candidates:
        post, boosted = candidate[2].post, candidate[2].boost is not None
        if not boosted:
            chosen.pop((True, post), None)
            chosen[(False, post)] = candidate
        elif (False, post) in chosen:
            continue
        elif (True, post) not in chosen or not newest_first:   # oldest first: a newer boost takes its place
            chosen.pop((True, post), None)
            chosen[(True, post)] = candidate
        if len(chosen) == limit:
            break
    return [item for _, _, item in sorted(chosen.values(), key=lambda c: (c[0], c[1]), reverse=True)]
