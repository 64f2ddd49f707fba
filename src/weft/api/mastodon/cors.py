"""Cross-origin access for web clients of the API (Elk, Phanpy and the like run on their
own origins and call this server from the browser).

Safe to open to every origin because these routes take a bearer token, never a cookie:
a page elsewhere can only use a token it already holds. The OAuth pages (cookies,
forms) are not routed through here. Pure ASGI, as the house style asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORS_HEADERS", "MAX_BODY_BYTES", "OpenCors", "api_route"]

CORS_HEADERS: Final = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After",
}
_PREFLIGHT: Final = {
    **CORS_HEADERS,
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, Idempotency-Key",
    "access-control-max-age": "86400",
}
MAX_BODY_BYTES: Final = 2 * 1024 * 1024  # a request to the API, uploads aside


class OpenCors:
    """Answers preflight requests and lets every origin read the route's responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers=_PREFLIGHT)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def api_route(path: str, endpoint: Callable[..., Any], methods: Sequence[str],
              *, max_body: int = MAX_BODY_BYTES) -> Route:
    """A route of the client API: open to other origins, with its body size limited."""
    return Route(path, endpoint, methods=[*methods, "OPTIONS"], middleware=[Middleware(OpenCors)],
                 max_body_size=max_body)
