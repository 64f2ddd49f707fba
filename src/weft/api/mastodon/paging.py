"""Reading the ids and pages of a request to the client API, and answering a page with its
``Link`` header.

Ids are decimal strings. An id in the path that cannot be one of ours is simply not found
(404, as Mastodon answers); an id or a limit in the query that is not a number is the
client's mistake (422).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request

from weft.api.mastodon.auth import site_of
from weft.api.mastodon.pagination import link_header, page_links
from weft.api.mastodon.params import Params, ParamsError
from weft.api.responses import JSONResponse
from weft.errors import NotFound
from weft.store.statuses import Page

__all__ = ["MAX_ID_DIGITS", "id_in_path", "integer", "page_of", "paged", "request_url"]

MAX_ID_DIGITS: Final = 20


def id_in_path(request: Request, name: str = "id") -> int:
    """The id the path names; NotFound when it is not a number we could have given out."""
    text = str(request.path_params[name])
    if not text.isdigit() or len(text) > MAX_ID_DIGITS or int(text) >= 2**63:
        raise NotFound(f"no record {text[:40]!r}")
    return int(text)


def integer(params: Params, name: str, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int | None:
    """A whole number parameter, or None if absent or empty."""
    value = params.values.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ParamsError(f"the parameter {name!r} must be a number")
    text = str(value).strip()
    if not text.lstrip("-").isdigit() or len(text) > MAX_ID_DIGITS + 1:
        raise ParamsError(f"the parameter {name!r} must be a number")
    number = int(text)
    if not minimum <= number <= maximum:
        raise ParamsError(f"the parameter {name!r} must be between {minimum} and {maximum}")
    return number


def page_of(params: Params, *, default: int = 20, maximum: int = 40) -> Page:
    """Mastodon's paging parameters; a limit above ``maximum`` is taken as ``maximum``, as
    Mastodon does."""
    limit = integer(params, "limit", minimum=1, maximum=2**31)
    return Page(limit=min(limit or default, maximum), max_id=integer(params, "max_id"),
                since_id=integer(params, "since_id"), min_id=integer(params, "min_id"))


def request_url(request: Request) -> str:
    """The request's URL on the site's public base (behind a proxy, the URL clients use)."""
    query = request.url.query
    return site_of(request).base_url + request.url.path + (f"?{query}" if query else "")


def paged(request: Request, items: list[dict[str, Any]], ids: Sequence[str] | None = None, *,
          older_only: bool = False) -> JSONResponse:
    """A page of entities, newest first, with its Link header. ``ids`` are the cursors
    (the entities' own ids unless given); ``older_only`` links the next page alone, for
    lists that can only be read backwards."""
    cursors = list(ids) if ids is not None else [str(item["id"]) for item in items]
    url = request_url(request)
    if older_only:
        link = page_links(url, max_id=cursors[-1], min_id=None) if cursors else None
    else:
        link = link_header(url, cursors)
    return JSONResponse(items, headers={"link": link} if link else None)
