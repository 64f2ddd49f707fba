"""What one does to someone's status, and who did it: favourite, reblog, bookmark and
their undoing; the accounts that favourited or reblogged a status.

Favourites and reblogs are signed entries (``site.social.posting.react``), bookmarks are
private to the account. Each is idempotent, as in Mastodon: favouriting twice is one
favourite. A reblog answers with the reblog itself, a status whose ``reblog`` is the
original; its undoing answers with the original.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.routing import Route

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import account_entity
from weft.api.mastodon.paging import id_in_path, integer, paged
from weft.api.mastodon.params import read_params
from weft.api.mastodon.status_entities import status_entity
from weft.api.mastodon.statuses import optional_viewer
from weft.api.responses import JSONResponse
from weft.errors import NotFound

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site
    from weft.social import Status

__all__ = ["ROUTES"]

DEFAULT_LIMIT: Final = 40
MAX_LIMIT: Final = 80

# path word -> (what the service calls it, on or off, the scope Mastodon asks for)
_REACTIONS: Final = {
    "favourite": ("favourite", True, "write:favourites"),
    "unfavourite": ("favourite", False, "write:favourites"),
    "reblog": ("reblog", True, "write:statuses"),
    "unreblog": ("reblog", False, "write:statuses"),
}


def _reaction(word: str) -> Route:
    kind, on, scope = _REACTIONS[word]

    @endpoint
    async def react(request: Request) -> JSONResponse:
        account = person_of(await authorize(request, scope))
        site, status_id = site_of(request), id_in_path(request)
        if kind == "reblog" and not on:
            boost = await _boost_status(site, account, status_id)
            if boost is not None:
                # Mastodon looks for the caller's reblog *of* this id, finds none, and
                # answers the status itself: undoing by the boost's own id is a no-op.
                return JSONResponse(status_entity(boost, site.base_url))
        status = await site.social.posting.react(account, status_id, kind, on=on)
        return JSONResponse(status_entity(status, site.base_url))

    return api_route(f"/api/v1/statuses/{{id}}/{word}", react, ["POST"])


async def _boost_status(site: Site, account: Account, status_id: int) -> Status | None:
    """The status ``status_id`` if it is a boost ``account`` may see, else None."""
    try:
        found = await site.social.statuses.status(account, status_id)
    except NotFound:
        return None
    return found if found.boost is not None else None


def _bookmark(word: str, on: bool) -> Route:
    @endpoint
    async def bookmark(request: Request) -> JSONResponse:
        account = person_of(await authorize(request, "write:bookmarks"))
        site = site_of(request)
        status = await site.social.posting.bookmark(account, id_in_path(request), on=on)
        return JSONResponse(status_entity(status, site.base_url))

    return api_route(f"/api/v1/statuses/{{id}}/{word}", bookmark, ["POST"])


def _reactors(word: str, kind: str) -> Route:
    @endpoint
    async def reactors(request: Request) -> JSONResponse:
        """Newest first; the next page (``max_id``) is older, as Mastodon's Link header says."""
        viewer = await optional_viewer(request, "read:accounts")
        params = await read_params(request)
        limit = min(integer(params, "limit", minimum=1, maximum=2**31) or DEFAULT_LIMIT, MAX_LIMIT)
        site = site_of(request)
        found = await site.social.statuses.reactors(viewer, id_in_path(request), kind, limit=limit,
                                                    max_id=integer(params, "max_id"))
        return paged(request, [account_entity(person, site.base_url) for _, person in found],
                     [str(row) for row, _ in found], older_only=True)

    return api_route(f"/api/v1/statuses/{{id}}/{word}", reactors, ["GET"])


ROUTES: Final = [
    *(_reaction(word) for word in _REACTIONS),
    _bookmark("bookmark", True),
    _bookmark("unbookmark", False),
    _reactors("favourited_by", "favourite"),
    _reactors("reblogged_by", "reblog"),
]
