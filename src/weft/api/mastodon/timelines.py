"""Timelines: home, public (``local=true``: this node's own identities), a hashtag's, and
one's bookmarks and favourites, newest first, paged by status id with Link headers.

"Local" means posted by this node's own identities (its hosted accounts among them); weft
has no ActivityPub posts from other servers yet, so ``remote=true`` is answered with an
empty list, and posts of peer-to-peer identities are public but not local. The home timeline, bookmarks and favourites need a person's token;
the public ones do not, but a token given must allow reading statuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.responses import Response

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.paging import page_of, paged
from weft.api.mastodon.params import read_params
from weft.api.mastodon.status_entities import status_entity
from weft.api.mastodon.statuses import optional_viewer
from weft.core.text import MAX_HASHTAG_CHARS
from weft.store.social import normal_tag

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.social import Status
    from weft.store.statuses import Page, TimelineKind

__all__ = ["ROUTES"]

READ: Final = ("read:statuses",)


async def _answer(request: Request, viewer: Account | None, kind: TimelineKind, page: Page, *,
                  tag: str | None = None, only_media: bool = False, local: bool = False) -> Response:
    """The page, from the site's page cache while nothing it shows can have changed."""
    site = site_of(request)
    pages = site.social.pages
    key = (viewer.identity if viewer is not None else None, kind, str(request.url))
    kept = pages.get(key)
    if kept is not None:
        return Response(kept.body, media_type="application/json", headers=kept.headers)
    generation = pages.generation()
    found: list[Status] = await site.social.statuses.timeline(viewer, kind, page, tag=tag, only_media=only_media,
                                                              local=local)
    answer = paged(request, [status_entity(status, site.base_url) for status in found])
    expiries = [status.row.expires for status in found if status.row.expires is not None]
    headers = {"link": answer.headers["link"]} if "link" in answer.headers else {}
    pages.put(key, generation, bytes(answer.body), headers, expires=min(expiries) if expiries else None)
    return answer


@endpoint
async def home(request: Request) -> Response:
    account = person_of(await authorize(request, *READ))
    return await _answer(request, account, "home", page_of(await read_params(request)))


@endpoint
async def public(request: Request) -> Response:
    viewer = await optional_viewer(request, *READ)
    params = await read_params(request)
    page = page_of(params)
    if params.flag("remote") and not params.flag("local"):
        return paged(request, [])
    kind: TimelineKind = "local" if params.flag("local") else "public"
    return await _answer(request, viewer, kind, page, only_media=bool(params.flag("only_media")))


@endpoint
async def hashtag(request: Request) -> Response:
    viewer = await optional_viewer(request, *READ)
    params = await read_params(request)
    page = page_of(params)
    name = normal_tag(str(request.path_params["hashtag"])[:MAX_HASHTAG_CHARS * 4])
    if not name or params.flag("remote"):
        return paged(request, [])
    return await _answer(request, viewer, "tag", page, tag=name, only_media=bool(params.flag("only_media")),
                         local=bool(params.flag("local")))


@endpoint
async def bookmarks(request: Request) -> Response:
    account = person_of(await authorize(request, "read:bookmarks"))
    return await _answer(request, account, "bookmarks", page_of(await read_params(request)))


@endpoint
async def favourites(request: Request) -> Response:
    account = person_of(await authorize(request, "read:favourites"))
    return await _answer(request, account, "favourites", page_of(await read_params(request)))


ROUTES: Final = [
    api_route("/api/v1/timelines/home", home, ["GET"]),
    api_route("/api/v1/timelines/public", public, ["GET"]),
    api_route("/api/v1/timelines/tag/{hashtag}", hashtag, ["GET"]),
    api_route("/api/v1/bookmarks", bookmarks, ["GET"]),
    api_route("/api/v1/favourites", favourites, ["GET"]),
]
