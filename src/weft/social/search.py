"""Search for every face: posts by their words, people by name, hashtags with their use,
and trending hashtags.

The words are matched by weft.store.search; posts found are shown as the viewer may see
them (the store applies ``visible_to`` before anything is counted or paged). Besides words,
a query may be the address of something on this site, which is then looked up exactly:
``{base}/@handle/{status id}`` (a status), ``{base}/@handle`` or ``@user@this-host`` (a
person). A Fediverse person's ``@user@host`` or actor URL finds them if held here, and
with ``resolve`` (a signed-in person's search) on their server (weft.social.remote).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from weft.errors import NotFound, UsageError
from weft.social.model import SearchResults, Status, Tag, TagUse
from weft.social.reading import People, Reader, viewer_identity
from weft.social.remote import find_remote, remote_query
from weft.store import relationships, search
from weft.store.people import Person
from weft.store.social import normal_tag

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from weft.accounts import Account
    from weft.site import Site
    from weft.store.search import DayUse

__all__ = ["KINDS", "MAX_QUERY_CHARS", "Search"]

KINDS: Final = ("accounts", "statuses", "hashtags")
MAX_QUERY_CHARS: Final = 1000
MAX_RESULTS: Final = 80
HISTORY_DAYS: Final = 7
# A "following only" people search reads this many matches at most to fill its page.
FOLLOWING_SCAN: Final = 2000
_STATUS_PATH: Final = re.compile(r"/@([^/?#]+)/(\d{1,20})/?")
_PERSON_PATH: Final = re.compile(r"/@([^/?#]+)/?")


def _tag(name: str, history: tuple[DayUse, ...]) -> Tag:
    return Tag(name, tuple(TagUse(day.day_start_ms, day.uses, day.accounts) for day in history))


class Search:
    def __init__(self, site: Site, reader: Reader) -> None:
        self.site = site
        self.node = site.node
        self.reader = reader

    def _query(self, query: str) -> str:
        if len(query) > MAX_QUERY_CHARS:
            raise UsageError(f"a search is at most {MAX_QUERY_CHARS} characters")
        return query.strip()

    async def everything(self, viewer: Account | None, query: str, *, kinds: tuple[str, ...] = KINDS,
                         limit: int = 20, offset: int = 0, following: bool = False,
                         account: int | None = None, resolve: bool = False) -> SearchResults:
        """Each kind of result asked for (``kinds``), ``limit`` of each after ``offset``.
        ``following``: only people the viewer follows; ``account``: only that person's posts;
        ``resolve``: look a Fediverse person up on their server (for a signed-in viewer only)."""
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise UsageError(f"a search finds {', '.join(KINDS)}, not {sorted(unknown)[0][:40]!r}")
        results = SearchResults()
        if "accounts" in kinds:
            results.accounts.extend(await self.accounts(viewer, query, limit=limit, offset=offset,
                                                        following=following, resolve=resolve))
        if "statuses" in kinds:
            results.statuses.extend(await self.posts(viewer, query, limit=limit, offset=offset, account=account))
        if "hashtags" in kinds:
            results.hashtags.extend(await self.hashtags(query, limit=limit, offset=offset))
        return results

    async def posts(self, viewer: Account | None, query: str, *, limit: int = 20, offset: int = 0,
                    account: int | None = None) -> list[Status]:
        """Posts the viewer may see whose words match, newest first; or the one status a
        link to it names."""
        query = self._query(query)
        limit = max(0, min(limit, MAX_RESULTS))
        linked = self._local_path(query)
        if linked is not None:
            found = _STATUS_PATH.fullmatch(linked)
            if found is None:
                return []
            try:
                status = await self.reader.status(viewer, int(found.group(2)))
            except NotFound:
                return []
            fits = offset == 0 and limit > 0 and (account is None or status.row.author == account)
            return [status] if fits else []
        async with self.node.db.read() as conn:
            rows = await search.search_posts(conn, query, viewer_identity(viewer), limit=limit, offset=offset,
                                             now_ms=self.node.clock(), account=account)
            return await self.reader.hydrate(conn, viewer, rows)

    async def accounts(self, viewer: Account | None, query: str, *, limit: int = 40, offset: int = 0,
                       following: bool = False, resolve: bool = False) -> list[Person]:
        """People by a prefix of their username, display name or DID (exact usernames first);
        with ``following``, only those the viewer follows. A Fediverse person's handle or URL
        finds that person (``resolve``: looked up on their server if not held, for a viewer)."""
        query = self._query(query)
        limit = max(0, min(limit, MAX_RESULTS))
        if following and viewer is None:
            raise UsageError("only a signed-in person can search among whom they follow")
        if remote_query(query, self.site.host) is not None:
            identity = await find_remote(self.site, query, resolve=resolve and viewer is not None)
            if identity is None or offset > 0 or limit == 0:
                return []
            if following and viewer is not None:
                async with self.node.db.read() as conn:
                    relation = (await relationships.relation_rows(conn, viewer.identity, [identity]))[0]
                if not (relation.following or relation.requested):
                    return []
            async with self.node.db.read() as conn:
                return await People(conn, self.node.clock()).many([identity])
        linked = self._local_path(query)
        if linked is not None:
            found = _PERSON_PATH.fullmatch(linked)
            query = found.group(1) if found is not None else ""
        user, _, host = query.removeprefix("@").partition("@")
        if host and host.lower() != self.site.host.lower():
            return []  # someone on another server
        async with self.node.db.read() as conn:
            if not following or viewer is None:
                rows = await search.search_accounts(conn, user, limit=limit, offset=offset)
            else:
                rows = await self._followed_matches(conn, viewer, user, limit=limit, offset=offset)
            return await People(conn, self.node.clock()).many(rows)

    async def _followed_matches(self, conn: AsyncConnection, viewer: Account, query: str, *, limit: int,
                                offset: int) -> list[int]:
        matched: list[int] = []
        read = 0
        batch = 200
        while len(matched) < offset + limit and read < FOLLOWING_SCAN:
            rows = await search.search_accounts(conn, query, limit=batch, offset=read)
            read += batch
            relations = await relationships.relation_rows(conn, viewer.identity, rows)
            followed = {row.other for row in relations if row.following or row.requested}
            matched += [row for row in rows if row in followed]
            if len(rows) < batch:
                break
        return matched[offset:offset + limit]

    async def hashtags(self, query: str, *, limit: int = 20, offset: int = 0) -> list[Tag]:
        """Hashtags in use that begin with the query, most used first, with their history."""
        query = self._query(query)
        limit = max(0, min(limit, MAX_RESULTS))
        if limit == 0 or not query.lstrip("#").strip():
            return []
        async with self.node.db.read() as conn:
            found = (await search.search_tags(conn, query, limit=offset + limit))[offset:]
            return [_tag(name, await search.tag_history(conn, name, now_ms=self.node.clock(), days=HISTORY_DAYS))
                    for name, _ in found]

    async def trending(self, *, limit: int = 10, offset: int = 0) -> list[Tag]:
        """Hashtags most people used in public posts today and yesterday, with their history."""
        limit = max(0, min(limit, MAX_RESULTS))
        async with self.node.db.read() as conn:
            trends = await search.trending_tags(conn, now_ms=self.node.clock(), days=HISTORY_DAYS,
                                                limit=offset + limit)
        return [_tag(trend.name, trend.history) for trend in trends[offset:]]

    async def tag(self, name: str) -> Tag:
        """One hashtag and its history (all zero if nobody used it); NotFound if ``name`` is no hashtag."""
        normal = normal_tag(name) if len(name) <= 200 else None
        if normal is None or not re.fullmatch(r"\w+", normal):
            raise NotFound(f"no hashtag {name[:40]!r}")
        async with self.node.db.read() as conn:
            return _tag(normal, await search.tag_history(conn, normal, now_ms=self.node.clock(), days=HISTORY_DAYS))

    def _local_path(self, query: str) -> str | None:
        """The path of a URL of this site, or None for any other query."""
        base = self.site.base_url
        if query.lower().startswith(base.lower() + "/"):
            return query[len(base):]
        return None
