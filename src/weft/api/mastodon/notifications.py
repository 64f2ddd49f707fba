"""Notifications: a page of them (filtered by type or by who caused them), one, dismiss
one, clear all, and how many are unread (newer than the notifications marker).

Mastodon clients know the types mention, favourite, reblog, follow and follow_request;
weft also tells a reply from a mention, and shows a reply to Mastodon clients as the
``mention`` it is to them, so ``types[]=mention`` asks for both. A notification about a
post the account may no longer see (deleted, expired) is left out, as the service does.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.paging import id_in_path, integer, page_of, paged
from weft.api.mastodon.params import Params, read_params
from weft.api.mastodon.status_entities import NOTIFICATION_TYPES, notification_entity
from weft.api.responses import JSONResponse

__all__ = ["ROUTES", "weft_kinds"]

READ: Final = ("read:notifications",)
WRITE: Final = ("write:notifications",)
DEFAULT_LIMIT: Final = 40
MAX_LIMIT: Final = 80
UNREAD_DEFAULT: Final = 100
UNREAD_MAX: Final = 1000


def weft_kinds(mastodon_types: Collection[str]) -> set[str]:
    """The weft kinds that Mastodon's ``types`` name (unknown ones name none)."""
    return {kind for kind, name in NOTIFICATION_TYPES.items() if name in mastodon_types}


def _filters(params: Params) -> tuple[set[str] | None, set[str]]:
    types = params.strings("types")
    exclude = params.strings("exclude_types") or []
    # Given types that name no kind of ours mean "none of them", not "all".
    wanted = None if types is None else (weft_kinds(types) or {"none"})
    return wanted, weft_kinds(exclude)


@endpoint
async def index(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *READ))
    params = await read_params(request)
    page = page_of(params, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    types, exclude = _filters(params)
    site = site_of(request)
    found = await site.social.notices.page(account, limit=page.limit, max_id=page.max_id, since_id=page.since_id,
                                           min_id=page.min_id, types=types, exclude_types=exclude,
                                           actor=integer(params, "account_id"))
    return paged(request, [notification_entity(note, site.base_url) for note in found])


@endpoint
async def unread_count(request: Request) -> JSONResponse:
    """How many notifications are newer than the notifications marker, up to ``limit``."""
    account = person_of(await authorize(request, *READ))
    params = await read_params(request)
    limit = min(integer(params, "limit", minimum=1, maximum=2**31) or UNREAD_DEFAULT, UNREAD_MAX)
    types, exclude = _filters(params)
    notices = site_of(request).social.notices
    marker = next(iter(await notices.markers(account, ["notifications"])), None)
    since = int(marker.last_read_id) if marker is not None else None
    count, before = 0, None
    while count < limit:
        found = await notices.page(account, limit=MAX_LIMIT, max_id=before, since_id=since, types=types,
                                   exclude_types=exclude, actor=integer(params, "account_id"))
        if not found:
            break
        count += len(found)
        before = found[-1].id
    return JSONResponse({"count": min(count, limit)})


@endpoint
async def show(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *READ))
    site = site_of(request)
    note = await site.social.notices.one(account, id_in_path(request))
    return JSONResponse(notification_entity(note, site.base_url))


@endpoint
async def dismiss(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    await site_of(request).social.notices.dismiss(account, id_in_path(request))
    return JSONResponse({})


@endpoint
async def clear(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    await site_of(request).social.notices.clear(account)
    return JSONResponse({})


ROUTES: Final = [
    api_route("/api/v1/notifications", index, ["GET"]),
    api_route("/api/v1/notifications/unread_count", unread_count, ["GET"]),
    api_route("/api/v1/notifications/clear", clear, ["POST"]),
    api_route("/api/v1/notifications/{id}", show, ["GET"]),
    api_route("/api/v1/notifications/{id}/dismiss", dismiss, ["POST"]),
]
