"""Our actors and objects as ActivityPub documents: what a remote server fetches.

- ``GET /users/{name}``: the account's Person (a Service for a bot), with its key; a
  browser is sent to the profile page ``/@name``. An unknown, pending or disabled account
  is 404 (weft has no suspended or deleted accounts yet, which Mastodon answers with 410).
- ``GET /users/{name}/outbox|followers|following|collections/featured``: its collections
  (:mod:`weft.federation.documents_collections`).
- ``GET /actor``: the instance actor (a Service named after the host, which signs our
  fetches); served unsigned even under authorized fetch, as Mastodon does, since servers
  need its key to check those fetches.
- ``GET /objects/{id}``: a post as its Note, a boost as its Announce, a like as its Like;
  ``…/activity``: a post's Create. A browser is sent to the post's page. Public and unlisted
  posts are served to anyone; followers-only and direct ones only to a signed GET by an
  actor who may see them (:func:`weft.store.statuses.visible_to`), else 404 as if absent.
  A deleted post or boost is 410 with a Tombstone.

How a request is read (content negotiation, signatures, authorized fetch) is in
:mod:`weft.federation.documents_access`; the documents are built by the outbound mapping
(:mod:`weft.federation.outbound`), so what we serve is what we deliver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import orjson
from sqlalchemy import select
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from weft.core.ids import is_entry_id, parse_entry_id
from weft.federation.as2_build import CONTEXT
from weft.federation.as2_build_actors import ActorFields, ordered_collection, service
from weft.federation.documents_access import AS2_TYPE, Unauthorized, asker, wants_activity_streams
from weft.federation.documents_actor import account_actor
from weft.federation.documents_collections import collection
from weft.federation.outbound import load_activity
from weft.federation.outbound_load import account_facts, entry_facts, hosted_author
from weft.federation.urls import INSTANCE_ACTOR_ID, instance_actor_url, object_url, shared_inbox_url
from weft.store.accounts import account_by
from weft.store.schema import deletions, posts
from weft.store.statuses import status_id, visible_rows

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["routes"]

INSTANCE_COLLECTIONS: Final = ("outbox", "followers", "following")
USER_COLLECTIONS: Final = ("outbox", "followers", "following", "collections/featured")


class _Username(Convertor[str]):
    """A username as weft.accounts allows it: no dot, so ``/users/alice.rss`` stays the feed's."""

    regex = "[A-Za-z0-9_]{1,30}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("weft_username", _Username())


def _document(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=AS2_TYPE, headers={"Vary": "Accept"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Vary": "Accept"})


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


async def _refused(request: Request, site: Site) -> Response | None:
    """401 when authorized fetch wants a signature the request lacks; else None."""
    try:
        await asker(request, site)
    except Unauthorized as refused:
        return _error(401, str(refused))
    return None


async def instance_actor(request: Request) -> Response:
    site = _site(request)
    if site.federation is None:
        return _error(404, "this site does not federate")
    base, url = site.base_url, instance_actor_url(site.base_url)
    key = await site.federation.keys.key(INSTANCE_ACTOR_ID)
    return _document(service(ActorFields(
        id=url, username=site.host, inbox=shared_inbox_url(base), outbox=f"{url}/outbox",
        followers=f"{url}/followers", following=f"{url}/following", shared_inbox=shared_inbox_url(base),
        public_key_pem=key.public_pem, name=site.title, url=f"{base}/about", manually_approves_followers=True)))


async def instance_collection(request: Request) -> Response:
    site = _site(request)
    name = request.path_params["collection"]
    if name not in INSTANCE_COLLECTIONS:
        return _error(404, f"the instance actor has no {name[:50]!r}")
    return _document(ordered_collection(id=f"{instance_actor_url(site.base_url)}/{name}", total_items=0, items=[]))


async def actor(request: Request) -> Response:
    site = _site(request)
    async with site.node.db.read() as conn:
        account = await account_by(conn, username=request.path_params["name"])
    if account is None or account.state != "active" or site.federation is None:
        return _error(404, "no such account")
    if not wants_activity_streams(request):
        return RedirectResponse(f"/@{account.username}", status_code=302, headers={"Vary": "Accept"})
    if (refused := await _refused(request, site)) is not None:
        return refused
    await site.federation.keys.key(account.identity)   # made on first need, before it is read
    async with site.node.db.read() as conn:
        facts = await account_facts(conn, site.base_url, account.identity)
    if facts is None:   # disabled in between
        return _error(404, "no such account")
    return _document(account_actor(site.base_url, facts))


async def user_collection(request: Request) -> Response:
    site = _site(request)
    name = request.path_params["collection"]
    async with site.node.db.read() as conn:
        account = await account_by(conn, username=request.path_params["name"])
    if account is None or account.state != "active" or name not in USER_COLLECTIONS:
        return _error(404, "no such collection")
    if not wants_activity_streams(request):
        return RedirectResponse(f"/@{account.username}", status_code=302, headers={"Vary": "Accept"})
    if (refused := await _refused(request, site)) is not None:
        return refused
    page = request.query_params.get("page") in ("true", "1")
    async with site.node.db.read() as conn:
        found = await collection(conn, site.base_url, account.identity, account.username, name, page=page,
                                 max_id=request.query_params.get("max_id"), now_ms=site.node.clock())
    return _error(404, "no such collection") if found is None else _document(found)


async def _object(request: Request, *, create: bool) -> Response:
    site = _site(request)
    text = request.path_params["entry_id"]
    if not is_entry_id(text):
        return _error(404, "no such object")
    as2 = wants_activity_streams(request)
    try:
        who = await asker(request, site) if as2 else None
    except Unauthorized as refused:
        return _error(401, str(refused))
    base, entry_id = site.base_url, parse_entry_id(text)
    async with site.node.db.read() as conn:
        entry = await entry_facts(conn, entry_id=entry_id)
        author = await hosted_author(conn, entry.author) if entry is not None else None
        if entry is None or author is None:
            return _error(404, "no such object")
        post = (await conn.execute(select(posts.c.deleted).where(posts.c.entry == entry.row))).first()
        erased = (await conn.execute(select(deletions.c.entry).where(
            deletions.c.target == entry_id, deletions.c.author == entry.author))).first()
        if (post is not None and post.deleted) or erased is not None:
            return _document({"@context": CONTEXT, "id": object_url(base, entry_id), "type": "Tombstone"}, 410)
        if post is not None and as2:   # a browser is sent to the page, which checks for itself
            viewer = who.identity if who is not None else None
            if not await visible_rows(conn, [entry.row], viewer, now_ms=site.node.clock()):
                return _error(404, "no such object")
        elif create:
            return _error(404, "only a post has a Create")
        built = await load_activity(conn, base, entry.row)
    if built is None or (post is None and built.activity["type"] not in ("Like", "Announce")):
        return _error(404, "no such object")
    if not as2:
        if built.activity["type"] == "Like":
            return _error(404, "a like has no page")
        return RedirectResponse(f"/@{author.username}/{status_id(entry.ts, entry.row)}", status_code=302,
                                headers={"Vary": "Accept"})
    if post is not None and not create:
        return _document({"@context": built.activity["@context"], **built.activity["object"]})
    return _document(built.activity)


async def object_document(request: Request) -> Response:
    return await _object(request, create=False)


async def create_document(request: Request) -> Response:
    return await _object(request, create=True)


def routes(site: Site) -> list[BaseRoute]:
    """The document routes; ``site`` is read from ``app.state.site`` at request time."""
    del site  # the same routes serve whichever site the app holds
    return [
        Route("/actor", instance_actor, methods=["GET"]),
        Route("/actor/{collection}", instance_collection, methods=["GET"]),
        Route("/users/{name:weft_username}", actor, methods=["GET"]),
        Route("/users/{name:weft_username}/{collection:path}", user_collection, methods=["GET"]),
        Route("/objects/{entry_id}", object_document, methods=["GET"]),
        Route("/objects/{entry_id}/activity", create_document, methods=["GET"]),
    ]
