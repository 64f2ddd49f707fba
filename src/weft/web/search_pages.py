"""``/search?q=``: people, hashtags and posts (weft.social.search decides what matches and
what the visitor may see). Posts are searched for signed-in people only, as Mastodon does;
with no query, the page shows the hashtags in use today."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import UsageError
from weft.site import Site
from weft.social.search import MAX_QUERY_CHARS
from weft.web.display import person_view, status_view
from weft.web.pages import notice
from weft.web.rendering import render
from weft.web.visitors import visitor

__all__ = ["search"]

PAGE_SIZE: Final = 20
MAX_OFFSET: Final = 1000


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "")
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > MAX_OFFSET:
        raise UsageError(f"offset must be a number up to {MAX_OFFSET}")
    return int(raw)


async def search(request: Request, site: Site) -> Response:
    me = await visitor(request, site)
    viewer = me.account if me is not None else None
    query = request.query_params.get("q", "").strip()[:MAX_QUERY_CHARS]
    offset = _offset(request)
    finder = site.social.search
    if not query:
        trending = await finder.trending(limit=10)
        return render(request, "search.html", title="Search", query="", searched=False, people=[], tags=[],
                      statuses=[], trending=trending, more=None, offset=0,
                      notice=notice(request))
    kinds: tuple[str, ...] = ("accounts", "hashtags", "statuses") if viewer is not None else ("accounts", "hashtags")
    if offset:
        kinds = ("statuses",) if viewer is not None else ()
    # A signed-in person's search for @user@host looks them up on their server, as Mastodon's does.
    found = await finder.everything(viewer, query, kinds=kinds, limit=PAGE_SIZE, offset=offset,
                                    resolve=viewer is not None and not offset)
    identity = viewer.identity if viewer is not None else None
    statuses = [status_view(status, identity, site.base_url) for status in found.statuses]
    return render(request, "search.html", title=f"Search: {query}", heading="Search", query=query, searched=True,
                  people=[person_view(p, site.base_url) for p in found.accounts], tags=found.hashtags, statuses=statuses,
                  trending=[], more=offset + PAGE_SIZE if len(statuses) == PAGE_SIZE else None,
                  offset=offset, notice=notice(request))
