"""Statuses: post, read, edit, delete, and read a post's thread, versions and source.

Every read and write goes through ``site.social``; who may see a post is decided there
alone, and a post the caller may not see is not found (404), whoever asks. A boost's own
status id reads as the boost (the reblog around its post), and its booster may delete it
by that id, which undoes the boost. Anyone may read
public and unlisted posts without a token; a token, when given, must allow reading
statuses.

Posting takes Mastodon's parameters, and weft's ``expires_in`` (seconds until the post
disappears everywhere). Scheduled posts and polls do not exist in weft and are refused
rather than posted without them. An ``Idempotency-Key`` makes a retried post (a phone that
lost the answer) return the first post instead of a second one, for an hour, in this process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, authorize_if_token, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.paging import id_in_path, integer
from weft.api.mastodon.params import Params, ParamsError, read_params
from weft.api.mastodon.status_entities import (
    WEFT_VISIBILITY,
    context_entity,
    status_edit_entities,
    status_entity,
    status_source_entity,
)
from weft.api.responses import JSONResponse
from weft.errors import NotFound, UsageError
from weft.social import MAX_CHARACTERS, MAX_SUMMARY_CHARS, Draft

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.social import Status

__all__ = ["ROUTES", "draft_of", "optional_viewer"]

READ: Final = ("read:statuses",)
WRITE: Final = ("write:statuses",)
MAX_TEXT: Final = MAX_CHARACTERS * 4   # URLs weigh 23 characters whatever their length
IDEMPOTENCY_MS: Final = 3_600_000
MAX_REMEMBERED: Final = 10_000
MAX_IDS: Final = 80


async def optional_viewer(request: Request, *any_of: str) -> Account | None:
    """Who reads, for endpoints anyone may call: the token's account, or None without a token
    (or with an app's own token)."""
    grant = await authorize_if_token(request, *any_of)
    return None if grant is None else grant.account


def _visibility(params: Params) -> str | None:
    name = params.text("visibility", limit=20)
    if not name:
        return None
    if name not in WEFT_VISIBILITY:
        raise ParamsError(f"visibility must be one of {', '.join(WEFT_VISIBILITY)}")
    return WEFT_VISIBILITY[name]


def _media_ids(params: Params) -> tuple[int, ...]:
    values = params.values.get("media_ids")
    if values is None:
        return ()
    items = values if isinstance(values, list) else [values]
    ids = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).isdigit() \
                or len(str(item)) > 19:
            raise ParamsError("media_ids must be ids of uploads")
        ids.append(int(item))
    return tuple(ids)


def _refuse_unsupported(params: Params) -> None:
    if params.values.get("scheduled_at"):
        raise ParamsError("scheduled posts are not supported")
    if params.values.get("poll"):
        raise ParamsError("polls are not supported")


def draft_of(params: Params) -> Draft:
    """What a ``POST /api/v1/statuses`` asks for (form or JSON alike)."""
    _refuse_unsupported(params)
    expires_in = integer(params, "expires_in", minimum=1, maximum=10**9)
    language = params.text("language", limit=16) or None
    return Draft(
        text=params.text("status", limit=MAX_TEXT) or "",
        visibility=_visibility(params),
        summary=params.text("spoiler_text", limit=MAX_SUMMARY_CHARS) or None,
        sensitive=bool(params.flag("sensitive")),
        reply_to=integer(params, "in_reply_to_id"),
        media_ids=_media_ids(params),
        expires_in_ms=None if expires_in is None else expires_in * 1000,
        lang=language,
    )


@dataclass
class _Remembered:
    at: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    status_id: int | None = None


@dataclass
class RecentPosts:
    """Posts by (account, Idempotency-Key) in the last hour. A second request with a key
    waits for the first to finish, then answers with its post (or, if it failed, tries)."""

    made: dict[tuple[int, str], _Remembered] = field(default_factory=dict)

    def entry(self, key: tuple[int, str], now_ms: int) -> _Remembered:
        for old in [old for old, found in self.made.items() if found.at + IDEMPOTENCY_MS <= now_ms]:
            del self.made[old]
        if key not in self.made and len(self.made) >= MAX_REMEMBERED:
            self.made.pop(next(iter(self.made)))
        return self.made.setdefault(key, _Remembered(now_ms))


def _recent(request: Request) -> RecentPosts:
    found = getattr(request.app.state, "recent_posts", None)
    if not isinstance(found, RecentPosts):
        found = request.app.state.recent_posts = RecentPosts()
    return found


async def _compose_once(request: Request, account: Account, draft: Draft) -> Status:
    social = site_of(request).social
    key = request.headers.get("idempotency-key", "").strip()[:200]
    if not key:
        return await social.posting.compose(account, draft)
    remembered = _recent(request).entry((account.id, key), site_of(request).node.clock())
    async with remembered.lock:
        if remembered.status_id is not None:
            return await social.statuses.status(account, remembered.status_id)
        status = await social.posting.compose(account, draft)
        remembered.status_id = status.id
        return status


@endpoint
async def create(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    status = await _compose_once(request, account, draft_of(await read_params(request)))
    return JSONResponse(status_entity(status, site_of(request).base_url))


@endpoint
async def show(request: Request) -> JSONResponse:
    viewer = await optional_viewer(request, *READ)
    site = site_of(request)
    status = await site.social.statuses.status(viewer, id_in_path(request))
    return JSONResponse(status_entity(status, site.base_url))


@endpoint
async def many(request: Request) -> JSONResponse:
    """``GET /api/v1/statuses?id[]=…``: those of the ids the caller may see, in that order."""
    viewer = await optional_viewer(request, *READ)
    ids = (await read_params(request)).strings("id") or []
    if len(ids) > MAX_IDS:
        raise ParamsError(f"at most {MAX_IDS} ids at once")
    wanted = [int(text) for text in ids if text.isdigit() and len(text) <= 19]
    site = site_of(request)
    found = await site.social.statuses.many(viewer, wanted)
    return JSONResponse([status_entity(status, site.base_url) for status in found])


@endpoint
async def edit(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    params = await read_params(request)
    _refuse_unsupported(params)
    site, status_id = site_of(request), id_in_path(request)
    current = await site.social.statuses.status(account, status_id)
    if "media_ids" in params:
        wanted = [str(media_id) for media_id in _media_ids(params)]
        if wanted != [attachment.id for attachment in current.attachments]:
            raise ParamsError("the images of a post cannot be changed; post it again instead")
    language = params.text("language", limit=16)
    if language and language != current.row.lang:
        raise ParamsError("the language of a post cannot be changed")
    text = params.text("status", limit=MAX_TEXT)
    summary = params.text("spoiler_text", limit=MAX_SUMMARY_CHARS)
    if text is None and summary is None and params.flag("sensitive") is None:
        raise UsageError("nothing to change: give status, spoiler_text or sensitive")
    edited = await site.social.posting.edit(
        account, status_id, text=current.row.text or "" if text is None else text,
        summary=current.row.summary if summary is None else summary, sensitive=params.flag("sensitive"))
    return JSONResponse(status_entity(edited, site.base_url))


async def _own_boost(request: Request, account: Account, status_id: int) -> Status | None:
    """The status ``status_id`` if it is a boost by ``account``."""
    try:
        found = await site_of(request).social.statuses.status(account, status_id)
    except NotFound:
        return None
    return found if found.boost is not None and found.boost.by.identity == account.identity else None


@endpoint
async def delete(request: Request) -> JSONResponse:
    """Delete a post; deleting one's boost by its own status id undoes it, as on Mastodon."""
    account = person_of(await authorize(request, *WRITE))
    site, status_id = site_of(request), id_in_path(request)
    boost = await _own_boost(request, account, status_id)
    if boost is not None:
        await site.social.posting.react(account, boost.row.id, "reblog", on=False)
        return JSONResponse(status_entity(boost, site.base_url))
    before = await site.social.posting.delete(account, status_id)
    return JSONResponse(status_entity(before, site.base_url, with_source=True))


@endpoint
async def context(request: Request) -> JSONResponse:
    viewer = await optional_viewer(request, *READ)
    site = site_of(request)
    ancestors, descendants = await site.social.statuses.context(viewer, id_in_path(request))
    return JSONResponse(context_entity(ancestors, descendants, site.base_url))


@endpoint
async def history(request: Request) -> JSONResponse:
    viewer = await optional_viewer(request, *READ)
    site = site_of(request)
    status, versions = await site.social.statuses.history(viewer, id_in_path(request))
    return JSONResponse(status_edit_entities(status, versions, site.base_url))


@endpoint
async def source(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *READ))
    status = await site_of(request).social.statuses.status(account, id_in_path(request))
    return JSONResponse(status_source_entity(status))


ROUTES: Final = [
    api_route("/api/v1/statuses", create, ["POST"]),
    api_route("/api/v1/statuses", many, ["GET"]),
    api_route("/api/v1/statuses/{id}", show, ["GET"]),
    api_route("/api/v1/statuses/{id}", edit, ["PUT"]),
    api_route("/api/v1/statuses/{id}", delete, ["DELETE"]),
    api_route("/api/v1/statuses/{id}/context", context, ["GET"]),
    api_route("/api/v1/statuses/{id}/history", history, ["GET"]),
    api_route("/api/v1/statuses/{id}/source", source, ["GET"]),
]
