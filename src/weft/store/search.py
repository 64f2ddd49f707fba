"""Search: posts by their words, people by name, hashtags by prefix, and trending hashtags.

Posts are found through the full-text index (store/search_index.py, which keeps it) and
then pass the one visibility rule, ``statuses.visible_to``, like every other read of posts:
a followers-only or direct post is found only by whom it may be shown. Deleted and expired
posts are never found, and neither are the posts of authors the viewer mutes or blocks,
as in timelines. What a query may contain, and how it is made harmless, is in
store/search_terms.py.

Hashtag counts and trends count only what anyone may see: public (for trends) or public
and unlisted (for tag search) posts that are neither deleted nor expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import Text

from weft.errors import UsageError
from weft.store.schema import (
    BLOCK,
    MUTE,
    VISIBILITY_CODES,
    accounts,
    entries,
    identities,
    post_search,
    post_tags,
    posts,
    profiles,
    relations,
)
from weft.store.search_index import index_posts, sqlite_post_search, unindex_posts
from weft.store.search_terms import clean_text, fts5_match, search_terms, tsquery_text
from weft.store.social import MAX_TAG_CHARS, normal_tag
from weft.store.statuses import alive_at, visible_to

__all__ = [
    "DayUse",
    "TagTrend",
    "index_posts",
    "search_accounts",
    "search_posts",
    "search_tags",
    "tag_history",
    "trending_tags",
    "unindex_posts",
]

DAY_MS: Final = 86_400_000
TREND_DAYS: Final = 2          # trends rank by who used a tag today and yesterday
MAX_HISTORY_DAYS: Final = 366
MIN_DID_PREFIX: Final = 4      # fewer characters of a DID would match one identity in 32, 1024, …
_PUBLIC, _UNLISTED = VISIBILITY_CODES["public"], VISIBILITY_CODES["unlisted"]


# -- posts -------------------------------------------------------------------------------


def _matching(dialect: str, terms: list[str]) -> Any:
    """SQL: the posts rows whose indexed words match ``terms``."""
    if dialect == "sqlite":
        match = literal_column("post_search").op("MATCH")(fts5_match(terms))
        return select(sqlite_post_search.c.rowid).where(match)
    query = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery_text(terms))
    return select(post_search.c.post).where(post_search.c.doc.op("@@")(query))


async def search_posts(conn: AsyncConnection, query: str, viewer: int | None, *, limit: int, offset: int,
                       now_ms: int, account: int | None = None) -> list[int]:
    """Posts rows whose words match ``query`` (every term; the last also as a prefix), newest
    first, of those ``viewer`` (identity row; None: anyone) may see; only ``account``'s if given."""
    terms = search_terms(query)
    if not terms or limit <= 0:
        return []
    where = [posts.c.entry.in_(_matching(conn.dialect.name, terms)), alive_at(now_ms), visible_to(viewer)]
    if account is not None:
        where.append(posts.c.author == account)
    if viewer is not None:
        hidden = select(relations.c.target).where(
            relations.c.source == viewer, relations.c.kind.in_((MUTE, BLOCK)), relations.c.active.is_(True))
        where.append(or_(posts.c.author == viewer, posts.c.author.not_in(hidden)))
    rows = await conn.execute(select(posts.c.entry).where(*where)
                              .order_by(posts.c.ts.desc(), posts.c.entry.desc())
                              .limit(limit).offset(max(0, offset)))
    return [row for (row,) in rows.all()]


# -- people ------------------------------------------------------------------------------


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _display_name(dialect: str) -> ColumnElement[Any]:
    """SQL: the lower-cased ``name`` of the identity's current profile, or NULL.

    Read from the profile entry's content, so a deleted profile has no name here either.
    Guarded so that no stored content can make the query fail: SQLite's json_extract
    raises on malformed JSON, PostgreSQL's ``->>`` on an escaped NUL.
    """
    if dialect == "sqlite":
        as_text = cast(entries.c.content, Text)
        return case((func.json_valid(as_text) == 1, func.lower(func.json_extract(as_text, "$.name"))))
    decoded = func.convert_from(entries.c.content, literal_column("'UTF8'"))
    name = func.lower(cast(decoded, JSON)["name"].astext)
    return case((func.strpos(decoded, literal("\\u0000")) == 0, name))


async def search_accounts(conn: AsyncConnection, query: str, *, limit: int, offset: int) -> list[int]:
    """Identity rows of the people ``query`` names: by a prefix of a hosted account's username, of
    a word of a display name, or of a DID (from its short form on, at least MIN_DID_PREFIX
    characters), ignoring case (on SQLite, of ASCII letters only). Exact usernames come
    first, then hosted accounts. Accounts pending approval or disabled are never found."""
    key = clean_text(query).strip().lstrip("@").strip().lower()
    if not key or limit <= 0:
        return []
    name = _display_name(conn.dialect.name).label("name")
    people = (select(identities.c.id, identities.c.did, accounts.c.username_key, accounts.c.state, name)
              .select_from(identities)
              .outerjoin(accounts, accounts.c.identity == identities.c.id)
              .outerjoin(profiles, profiles.c.identity == identities.c.id)
              .outerjoin(entries, entries.c.id == profiles.c.entry)).subquery()
    prefix = _like_prefix(key)
    found = [people.c.username_key.like(prefix, escape="\\"), people.c.name.like(prefix, escape="\\"),
             people.c.name.like("% " + prefix, escape="\\")]
    did_prefix = key if key.startswith("did:") else "did:weft:" + key
    if len(did_prefix) >= len("did:weft:") + MIN_DID_PREFIX:
        found.append(people.c.did.like(_like_prefix(did_prefix), escape="\\"))
    exact = case((people.c.username_key == key, 0), else_=1)
    hosted = case((people.c.username_key.is_not(None), 0), else_=1)
    rows = await conn.execute(
        select(people.c.id)
        .where(or_(*found), or_(people.c.state.is_(None), people.c.state == "active"))
        .order_by(exact, hosted, people.c.id).limit(limit).offset(max(0, offset)))
    return [row for (row,) in rows.all()]


# -- hashtags ----------------------------------------------------------------------------


async def search_tags(conn: AsyncConnection, query: str, *, limit: int) -> list[tuple[str, int]]:
    """Hashtags starting with ``query`` ('#' and case ignored) and how many posts anyone may
    see use them, most used first."""
    cleaned = clean_text(query)
    prefix = normal_tag(cleaned)
    if prefix is None:   # normal_tag refuses all-digit tags, but digits can begin one
        digits = cleaned.lstrip("#").strip()
        prefix = digits if digits.isdigit() and len(digits) <= MAX_TAG_CHARS else None
    if prefix is None or limit <= 0:
        return []
    uses = func.count().label("uses")
    rows = await conn.execute(
        select(post_tags.c.tag, uses).join(posts, posts.c.entry == post_tags.c.post)
        .where(post_tags.c.tag.like(_like_prefix(prefix), escape="\\"),
               posts.c.visibility.in_((_PUBLIC, _UNLISTED)), posts.c.deleted.is_(False))
        .group_by(post_tags.c.tag).order_by(uses.desc(), post_tags.c.tag).limit(limit))
    return [(tag, int(count)) for tag, count in rows.all()]


@dataclass(frozen=True)
class DayUse:
    """A hashtag's use on one UTC day: posts, and distinct authors of them."""

    day_start_ms: int
    uses: int
    accounts: int


@dataclass(frozen=True)
class TagTrend:
    """A trending hashtag and its history, newest day first (Mastodon's Tag entity)."""

    name: str
    history: tuple[DayUse, ...]


def _today(now_ms: int) -> int:
    return now_ms - now_ms % DAY_MS


def _counted(now_ms: int, since_ms: int) -> list[ColumnElement[bool]]:
    """SQL: tag uses from ``since_ms`` up to now, in public posts shown now."""
    return [post_tags.c.ts >= since_ms, post_tags.c.ts <= now_ms, posts.c.visibility == _PUBLIC,
            alive_at(now_ms)]


async def _histories(conn: AsyncConnection, tags: list[str], *, now_ms: int,
                     days: int) -> dict[str, tuple[DayUse, ...]]:
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise UsageError(f"a hashtag's history covers 1 to {MAX_HISTORY_DAYS} days, not {days}")
    today = _today(now_ms)
    first = today - (days - 1) * DAY_MS
    day = ((post_tags.c.ts - first) // DAY_MS).label("day")
    rows = await conn.execute(
        select(post_tags.c.tag, day, func.count(), func.count(distinct(posts.c.author)))
        .join(posts, posts.c.entry == post_tags.c.post)
        .where(post_tags.c.tag.in_(tags), *_counted(now_ms, first))
        .group_by(post_tags.c.tag, day))
    counts = {(tag, int(index)): (int(uses), int(people)) for tag, index, uses, people in rows.all()}
    return {tag: tuple(DayUse(first + index * DAY_MS, *counts.get((tag, index), (0, 0)))
                       for index in reversed(range(days)))
            for tag in tags}


async def tag_history(conn: AsyncConnection, tag: str, *, now_ms: int, days: int = 7) -> tuple[DayUse, ...]:
    """Uses of one hashtag per UTC day, newest (today) first, ``days`` of them; counted as in
    ``trending_tags``. All zero for a tag never used (or not a tag)."""
    name = normal_tag(clean_text(tag)) or ""
    return (await _histories(conn, [name], now_ms=now_ms, days=days))[name]


async def trending_tags(conn: AsyncConnection, *, now_ms: int, days: int = 7, limit: int = 10) -> list[TagTrend]:
    """Hashtags ranked by how many people used them in public posts today and yesterday (UTC),
    then by how many such posts; each with ``days`` of history, newest day first."""
    if limit <= 0:
        return []
    people = func.count(distinct(posts.c.author)).label("people")
    uses = func.count().label("uses")
    ranked = await conn.execute(
        select(post_tags.c.tag, people, uses).join(posts, posts.c.entry == post_tags.c.post)
        .where(*_counted(now_ms, _today(now_ms) - (TREND_DAYS - 1) * DAY_MS))
        .group_by(post_tags.c.tag).order_by(people.desc(), uses.desc(), post_tags.c.tag).limit(limit))
    names = [tag for tag, _, _ in ranked.all()]
    if not names:
        return []
    histories = await _histories(conn, names, now_ms=now_ms, days=days)
    return [TagTrend(name, histories[name]) for name in names]
