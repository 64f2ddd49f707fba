"""Search, trends and hashtags through the client API.

- ``GET /api/v2/search``: accounts, statuses and hashtags (``type`` picks one), ``limit``
  of each (default 20, at most 40) after ``offset``. Statuses are found only by a
  signed-in person and only among those they may see; as on Mastodon, a search without a
  token finds accounts and hashtags, and may not page with ``offset``. ``following`` keeps
  the people the caller follows, ``account_id`` the posts of one person. A query that is
  a Fediverse person's handle (``@user@host``) or actor URL finds them if held here; with
  ``resolve=true`` and a person's token, they are looked up on their server if not.
- ``GET /api/v1/accounts/search``: people (default 40, at most 80), for a person's token;
  ``resolve`` as above.
- ``GET /api/v1/trends/tags`` (and ``/api/v1/trends``): hashtags most people used in
  public posts today and yesterday, paged by ``offset``.
- ``GET /api/v1/tags/{name}``: one hashtag with its history; nobody "follows" hashtags
  here, so ``following`` is false.

Hashtags are Mastodon's Tag entity: ``history`` has one day per entry, newest first, with
the day's start (UNIX seconds), uses and distinct people, all as strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, authorize_if_token, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import account_entity
from weft.api.mastodon.paging import integer, request_url
from weft.api.mastodon.params import Params, ParamsError, read_params
from weft.api.mastodon.status_entities import status_entity
from weft.api.responses import JSONResponse
from weft.errors import AuthError
from weft.social.search import KINDS, MAX_QUERY_CHARS

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.social.model import Tag

__all__ = ["ROUTES", "tag_entity"]

_NEEDS_TOKEN_TO_PAGE: Final = "Search queries pagination is not supported without authentication"


def tag_entity(tag: Tag, base_url: str, *, following: bool | None = None) -> dict[str, Any]:
    """Mastodon's Tag entity; ``following`` only where a person asks."""
    entity: dict[str, Any] = {
        "name": tag.name,
        "url": f"{base_url}/tags/{tag.name}",
        "history": [{"day": str(day.day_start_ms // 1000), "uses": str(day.uses), "accounts": str(day.accounts)}
                    for day in tag.history],
    }
    if following is not None:
        entity["following"] = following
    return entity


def _limit(params: Params, *, default: int, maximum: int) -> int:
    # A limit above the maximum is taken as the maximum, as Mastodon does.
    return min(integer(params, "limit", minimum=1, maximum=2**31) or default, maximum)


def _offset_page(request: Request, items: list[dict[str, Any]], *, offset: int, limit: int) -> JSONResponse:
    """A page of offset-paged results: a ``next`` link while pages are full, a ``prev`` one
    after the first."""
    parts = urlsplit(request_url(request))
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "offset"]

    def at(position: int) -> str:
        return urlunsplit(parts._replace(query=urlencode([*kept, ("offset", str(position))])))

    links = []
    if len(items) == limit:
        links.append(f'<{at(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{at(max(0, offset - limit))}>; rel="prev"')
    return JSONResponse(items, headers={"link": ", ".join(links)} if links else None)


@endpoint
async def search_v2(request: Request) -> JSONResponse:
    grant = await authorize_if_token(request, "read:search")
    viewer: Account | None = None if grant is None else grant.account
    params = await read_params(request)
    query = params.text("q", limit=MAX_QUERY_CHARS) or ""
    kind = params.text("type", limit=40)
    if kind and kind not in KINDS:
        raise ParamsError(f"type must be one of {', '.join(KINDS)}")
    limit = _limit(params, default=20, maximum=40)
    offset = integer(params, "offset", maximum=10_000) or 0
    if offset and viewer is None:
        raise AuthError(_NEEDS_TOKEN_TO_PAGE)
    account = integer(params, "account_id")
    kinds: tuple[str, ...] = (kind,) if kind else KINDS
    if viewer is None:  # statuses are searched for a signed-in person only
        kinds = tuple(k for k in kinds if k != "statuses")
    site = site_of(request)
    found = await site.social.search.everything(
        viewer, query, kinds=kinds, limit=limit, offset=offset,
        following=bool(params.flag("following")) and viewer is not None, account=account,
        resolve=bool(params.flag("resolve")) and viewer is not None)
    base_url = site.base_url
    return JSONResponse({
        "accounts": [account_entity(person, base_url) for person in found.accounts],
        "statuses": [status_entity(status, base_url) for status in found.statuses],
        "hashtags": [tag_entity(tag, base_url, following=False if viewer else None) for tag in found.hashtags],
    })


@endpoint
async def account_search(request: Request) -> JSONResponse:
    viewer = person_of(await authorize(request, "read:accounts"))
    params = await read_params(request)
    limit = _limit(params, default=40, maximum=80)
    offset = integer(params, "offset", maximum=10_000) or 0
    site = site_of(request)
    found = await site.social.search.accounts(viewer, params.text("q", limit=MAX_QUERY_CHARS) or "", limit=limit,
                                              offset=offset, following=bool(params.flag("following")),
                                              resolve=bool(params.flag("resolve")))
    return _offset_page(request, [account_entity(person, site.base_url) for person in found],
                        offset=offset, limit=limit)


@endpoint
async def trending_tags(request: Request) -> JSONResponse:
    await authorize_if_token(request)
    params = await read_params(request)
    limit = _limit(params, default=10, maximum=20)
    offset = integer(params, "offset", maximum=10_000) or 0
    site = site_of(request)
    found = await site.social.search.trending(limit=limit, offset=offset)
    return _offset_page(request, [tag_entity(tag, site.base_url) for tag in found], offset=offset, limit=limit)


@endpoint
async def tag(request: Request) -> JSONResponse:
    grant = await authorize_if_token(request)
    site = site_of(request)
    found = await site.social.search.tag(str(request.path_params["name"]))
    return JSONResponse(tag_entity(found, site.base_url, following=False if grant and grant.account else None))


ROUTES: Final = [
    api_route("/api/v2/search", search_v2, ["GET"]),
    # Before the part-one route /api/v1/accounts/{id}, which would take "search" for an id.
    api_route("/api/v1/accounts/search", account_search, ["GET"]),
    api_route("/api/v1/trends/tags", trending_tags, ["GET"]),
    api_route("/api/v1/trends", trending_tags, ["GET"]),
    api_route("/api/v1/tags/{name}", tag, ["GET"]),
]
