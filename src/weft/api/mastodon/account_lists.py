"""What an account's page lists: its statuses, its followers and whom it follows.

Anyone may read them (a token, when given, must allow reading); what shows is what the
viewer may see: posts through the one visibility rule of ``weft.store.statuses``, boosts
only of posts the viewer may see. Someone who blocks the viewer shows the viewer nothing,
as on Mastodon.

Statuses take Mastodon's filters (``only_media``, ``exclude_replies``, ``exclude_reblogs``,
``tagged``) and page by status id both ways. ``pinned=true`` lists nothing: weft has no
pinned posts. Followers and following are ordered by account id, newest first, and page
backwards (``max_id``, ``since_id``) through the ``next`` link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize_if_token, endpoint, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import account_entity
from weft.api.mastodon.paging import id_in_path, page_of, paged
from weft.api.mastodon.params import ParamsError, read_params
from weft.api.mastodon.status_entities import status_entity
from weft.api.responses import JSONResponse
from weft.store.account_statuses import AccountFilters
from weft.store.social import normal_tag

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.store.people import Person

__all__ = ["ROUTES"]


async def _viewer_of(request: Request, *scopes: str) -> Account | None:
    grant = await authorize_if_token(request, *scopes)
    return None if grant is None else grant.account


async def _shown_to(request: Request, viewer: Account | None, identity: int) -> bool:
    """Whether the person ``identity`` (who must exist: else NotFound) lets the viewer see their lists."""
    following = site_of(request).social.following
    await following.person(identity)
    if viewer is None or viewer.identity == identity:
        return True
    return not (await following.relationships(viewer, [identity]))[0].blocked_by


@endpoint
async def statuses(request: Request) -> JSONResponse:
    viewer = await _viewer_of(request, "read:statuses")
    identity = id_in_path(request)
    params = await read_params(request)
    page = page_of(params)
    tagged = params.text("tagged", limit=200)
    tag = normal_tag(tagged) if tagged else None
    if tagged and tag is None:
        raise ParamsError("tagged must be a hashtag")
    filters = AccountFilters(only_media=bool(params.flag("only_media")),
                             exclude_replies=bool(params.flag("exclude_replies")),
                             exclude_reblogs=bool(params.flag("exclude_reblogs")), tag=tag)
    if not await _shown_to(request, viewer, identity) or params.flag("pinned"):
        return paged(request, [])
    site = site_of(request)
    found = await site.social.statuses.of_account(viewer, identity, page, filters)
    return paged(request, [status_entity(status, site.base_url) for status in found])


def _people(request: Request, found: list[Person]) -> JSONResponse:
    base_url = site_of(request).base_url
    return paged(request, [account_entity(person, base_url) for person in found], older_only=True)


@endpoint
async def followers(request: Request) -> JSONResponse:
    viewer = await _viewer_of(request, "read:accounts")
    identity = id_in_path(request)
    page = page_of(await read_params(request), default=40, maximum=80)
    if not await _shown_to(request, viewer, identity):
        return paged(request, [])
    return _people(request, await site_of(request).social.following.followers(
        identity, limit=page.limit, max_id=page.max_id, since_id=page.since_id))


@endpoint
async def following(request: Request) -> JSONResponse:
    viewer = await _viewer_of(request, "read:accounts")
    identity = id_in_path(request)
    page = page_of(await read_params(request), default=40, maximum=80)
    if not await _shown_to(request, viewer, identity):
        return paged(request, [])
    return _people(request, await site_of(request).social.following.following(
        identity, limit=page.limit, max_id=page.max_id, since_id=page.since_id))


ROUTES: Final = [
    api_route("/api/v1/accounts/{id}/statuses", statuses, ["GET"]),
    api_route("/api/v1/accounts/{id}/followers", followers, ["GET"]),
    api_route("/api/v1/accounts/{id}/following", following, ["GET"]),
]
