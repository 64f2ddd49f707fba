"""Following, blocking and muting through the client API, and how two people stand.

Follow, unfollow, block, unblock, mute and unmute answer the Relationship entity as it is
afterwards; they are idempotent, as Mastodon's are. A follow of a locked account is a
request (``requested``) until its owner authorizes or rejects it
(``/api/v1/follow_requests``); ``remove_from_followers`` rejects a follower already let in.
Mastodon's ``reblogs``, ``notify`` and ``languages`` options of a follow are accepted and
not kept: weft shows every boost and sends no per-account notifications.

Lists of people (follow requests, blocks, mutes) are ordered by account id, newest
first, and page backwards with ``max_id`` through the ``next`` link. Scopes are
Mastodon's, with the legacy ``follow`` covering the follows, blocks and mutes ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import account_entity
from weft.api.mastodon.paging import id_in_path, page_of, paged
from weft.api.mastodon.params import read_params
from weft.api.responses import JSONResponse
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.social.model import Relationship
    from weft.store.people import Person

__all__ = ["MAX_RELATIONSHIP_IDS", "ROUTES", "relationship_entity"]

MAX_RELATIONSHIP_IDS: Final = 80

# The scope each action needs, as Mastodon's controllers ask.
_ACTION_SCOPES: Final = {"follow": "write:follows", "unfollow": "write:follows", "block": "write:blocks",
                         "unblock": "write:blocks", "mute": "write:mutes", "unmute": "write:mutes"}


def relationship_entity(relation: Relationship) -> dict[str, Any]:
    """Mastodon's Relationship entity: how the viewer and one other person stand."""
    return {
        "id": str(relation.identity),
        "following": relation.following,
        "showing_reblogs": relation.following or relation.requested,
        "notifying": False,
        "languages": None,
        "followed_by": relation.followed_by,
        "blocking": relation.blocking,
        "blocked_by": relation.blocked_by,
        "muting": relation.muting,
        "muting_notifications": relation.muting,
        "requested": relation.requested,
        "requested_by": relation.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def _act(action: str) -> Any:
    @endpoint
    async def act(request: Request) -> JSONResponse:
        account = person_of(await authorize(request, _ACTION_SCOPES[action]))
        identity = id_in_path(request)
        await read_params(request)  # a malformed body is refused before anything is published
        relation = await site_of(request).social.following.relate(account, identity, action)
        return JSONResponse(relationship_entity(relation))

    act.__name__ = act.__qualname__ = action
    return act


@endpoint
async def relationships(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "read:follows"))
    params = await read_params(request)
    wanted = params.strings("id") or []
    if len(wanted) > MAX_RELATIONSHIP_IDS:
        raise UsageError(f"at most {MAX_RELATIONSHIP_IDS} ids at once")
    # Mastodon leaves out the ids it does not know rather than failing the whole call.
    identities = [int(text) for text in dict.fromkeys(wanted) if text.isdigit() and len(text) <= 18]
    found = await site_of(request).social.following.relationships(account, identities, known_only=True)
    return JSONResponse([relationship_entity(relation) for relation in found])


def _people_page(request: Request, people: list[Person]) -> JSONResponse:
    base_url = site_of(request).base_url
    return paged(request, [account_entity(person, base_url) for person in people], older_only=True)


@endpoint
async def follow_requests(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "read:follows"))
    page = page_of(await read_params(request), default=40, maximum=80)
    found = await site_of(request).social.following.follow_requests(account, limit=page.limit, max_id=page.max_id)
    return _people_page(request, found)


def _answer(accept: bool) -> Any:
    @endpoint
    async def answer(request: Request) -> JSONResponse:
        account = person_of(await authorize(request, "write:follows"))
        relation = await site_of(request).social.following.answer(account, id_in_path(request), accept=accept)
        return JSONResponse(relationship_entity(relation))

    answer.__name__ = answer.__qualname__ = "authorize" if accept else "reject"
    return answer


@endpoint
async def remove_from_followers(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "write:follows"))
    identity = id_in_path(request)
    following = site_of(request).social.following
    await following.person(identity)  # NotFound for an unknown id
    current = (await following.relationships(account, [identity]))[0]
    if not current.followed_by:
        return JSONResponse(relationship_entity(current))  # nothing to remove: idempotent, as on Mastodon
    return JSONResponse(relationship_entity(await following.answer(account, identity, accept=False)))


@endpoint
async def blocks(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "read:blocks"))
    page = page_of(await read_params(request), default=40, maximum=80)
    return _people_page(request, await site_of(request).social.following.blocked(
        account, limit=page.limit, max_id=page.max_id))


@endpoint
async def mutes(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "read:mutes"))
    page = page_of(await read_params(request), default=40, maximum=80)
    return _people_page(request, await site_of(request).social.following.muted(
        account, limit=page.limit, max_id=page.max_id))


ROUTES: Final = [
    # Before the part-one route /api/v1/accounts/{id}, which would take "relationships" for an id.
    api_route("/api/v1/accounts/relationships", relationships, ["GET"]),
    *(api_route(f"/api/v1/accounts/{{id}}/{action}", _act(action), ["POST"]) for action in _ACTION_SCOPES),
    api_route("/api/v1/accounts/{id}/remove_from_followers", remove_from_followers, ["POST"]),
    api_route("/api/v1/follow_requests", follow_requests, ["GET"]),
    api_route("/api/v1/follow_requests/{id}/authorize", _answer(True), ["POST"]),
    api_route("/api/v1/follow_requests/{id}/reject", _answer(False), ["POST"]),
    api_route("/api/v1/blocks", blocks, ["GET"]),
    api_route("/api/v1/mutes", mutes, ["GET"]),
]
