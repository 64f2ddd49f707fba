"""The Starlette application of one node (``create_app``) and how errors become JSON."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from weft.api import mastodon, native, openapi, pages
from weft.api.headers import SecurityHeaders
from weft.api.responses import error_response, status_for
from weft.api.routing import grouped
from weft.errors import WeftError

if TYPE_CHECKING:
    from weft.node import Node
    from weft.site import Site

__all__ = ["create_app"]

log = logging.getLogger("weft.api")


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    message = str(exc.detail)
    # Starlette's router says only "Not Found" or "Method Not Allowed": say what was asked.
    if exc.status_code == 404 and message == "Not Found":
        message = f"nothing at {request.url.path[:200]}"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path[:200]} (allowed: {allowed})"
    response = error_response(exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _weft_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, WeftError):  # pragma: no cover - registered for WeftError only
        raise exc
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return error_response(status, str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal error")


def create_app(node: Node, *, gossip: dict[str, Any] | None = None,
               extra_routes: Sequence[BaseRoute] = (), site: Site | None = None) -> Starlette:
    """A read-only HTTP face for ``node``; the node must stay open while the app serves.

    ``gossip`` (``{"key": did:key, "port": N}``), when the node also gossips, is published
    at ``/api/node`` so that peers given this node's URL can find its gossip port.
    ``extra_routes`` are what the node assembly mounts from other faces (the gossip
    WebSocket), so that this face need not know them. ``site``, when the node hosts
    accounts, is kept at ``app.state.site`` for the faces that serve them, and adds the
    Mastodon client API (``weft.api.mastodon``).
    """
    # The other faces' routes come before the node's feed page: a site's web app has its own ``/``.
    routes: list[BaseRoute] = [*native.ROUTES, *openapi.ROUTES, *extra_routes, *pages.ROUTES]
    if site is not None:
        routes += mastodon.routes()
    app = Starlette(
        routes=grouped(routes),
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, WeftError: _weft_error, 500: _server_error},
    )
    app.state.node = node
    app.state.gossip = gossip
    app.state.site = site
    return app
