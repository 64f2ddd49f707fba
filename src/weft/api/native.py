"""The native JSON API, read-only: identities, their logs, device logs, entries, the feed.

Routes only shape requests and responses; the node does the work. Headers,
identity operations and contents are canonical JSON, served here as JSON
objects; ``raw`` (base64) keeps an identity operation's exact signed bytes.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Final, cast

import orjson
from starlette.requests import Request
from starlette.routing import Route

from weft.api.responses import JSONResponse, int_param
from weft.core.ids import entry_id_bytes, entry_id_text, is_entry_id, parse_did
from weft.core.keys import public_key_from_did_key
from weft.errors import NotFound

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["ROUTES", "node_of"]

MAX_LOG_LIMIT: Final = 1000
SHOWN: Final = frozenset({"public", "unlisted"})  # unlisted: not in feeds, but by its id
MAX_FEED_LIMIT: Final = 200


def node_of(request: Request) -> Node:
    return cast("Node", request.app.state.node)


def _json_or_none(raw: bytes | None) -> Any:
    return None if raw is None else orjson.loads(raw)


async def identity(request: Request) -> JSONResponse:
    """This node's own identity: DID, current state, profile."""
    node = node_of(request)
    did = node.local().did
    state = await node.state(did)
    profile = await node.profile(did)
    return JSONResponse({"did": did, "state": state.to_json(), "profile": profile})


async def identity_of(request: Request) -> JSONResponse:
    """Any identity this node holds: its state and the signed operations of its log."""
    node = node_of(request)
    did = parse_did(request.path_params["did"])
    state = await node.state(did)
    ops = await node.identity_ops(did)
    return JSONResponse({
        "did": did,
        "state": state.to_json(),
        "ops": [{"id": entry_id_text(entry_id_bytes(raw)), "op": orjson.loads(raw),
                 "raw": base64.b64encode(raw).decode("ascii")} for raw in ops],
    })


async def device_log(request: Request) -> JSONResponse:
    """Entries of one device log in seq order: ``after`` a seq, at most ``limit`` (capped at 1000).
    The content of followers-only and direct posts is withheld, as by ``entry``."""
    node = node_of(request)
    device = request.path_params["device"]
    public_key_from_did_key(device)  # a malformed key is a 400, not a 404
    after = int_param(request, "after", 0, low=0)
    limit = int_param(request, "limit", 100, low=1, high=MAX_LOG_LIMIT, clamp=True)
    rows = await node.device_log(device, after=after, limit=limit, public_only=True)
    items = [{"id": entry_id_text(entry_id_bytes(header)), "header": orjson.loads(header),
              "content": _json_or_none(content)} for header, content in rows]
    last = items[-1]["header"]["seq"] if items else after
    return JSONResponse({"device": device, "entries": items, "next_after": last,
                         "more": len(items) == limit})


async def entry(request: Request) -> JSONResponse:
    """One entry by id or unique prefix: header, content, and for posts the view and history.
    Followers-only and direct posts are not shown to this unauthenticated API."""
    node = node_of(request)
    detail = await node.show(request.path_params["entry_id"])
    if not await _shown(node, detail):
        raise NotFound(f"no entry {detail['id']} on this node")
    return JSONResponse(detail)


async def _shown(node: Node, detail: dict[str, Any]) -> bool:
    """Whether this API may show an entry: not a followers-only or direct post, nor an edit
    of one (an edit carries the new text). An edit of a post not held is shown, as by
    ``device_log``."""
    if detail.get("post", {}).get("visibility", "public") not in SHOWN:
        return False
    content = detail.get("content") or {}
    if content.get("type") != "edit" or not is_entry_id(content.get("target")):
        return True
    try:
        target = await node.show(content["target"])
    except NotFound:
        return True
    return bool(target.get("post", {}).get("visibility", "public") in SHOWN)


async def feed(request: Request) -> JSONResponse:
    """The node identity's feed, newest first; ``before`` (a post's ts in ms) pages back.
    Only public posts: this API has no notion yet of who is asking."""
    node = node_of(request)
    limit = int_param(request, "limit", 20, low=1, high=MAX_FEED_LIMIT, clamp=True)
    before_raw = request.query_params.get("before")
    before = int_param(request, "before", 0, low=0) if before_raw else None
    views = await node.feed(limit=limit, before_ts=before)
    return JSONResponse([view.to_json() for view in views if view.visibility == "public"])


async def node_info(request: Request) -> JSONResponse:
    """What a peer needs to reach this node: its identity and, if it gossips, where and with what key."""
    node = node_of(request)
    return JSONResponse({"did": node.local().did, "gossip": request.app.state.gossip})


async def health(request: Request) -> JSONResponse:
    """The server answers (for monitors and load balancers); it reads nothing."""
    return JSONResponse({"status": "ok"})


ROUTES: Final = [
    Route("/api/health", health, methods=["GET"]),
    Route("/api/node", node_info, methods=["GET"]),
    Route("/api/identity", identity, methods=["GET"]),
    Route("/api/identities/{did}", identity_of, methods=["GET"]),
    Route("/api/logs/{device}", device_log, methods=["GET"]),
    Route("/api/entries/{entry_id}", entry, methods=["GET"]),
    Route("/api/feed", feed, methods=["GET"]),
]
