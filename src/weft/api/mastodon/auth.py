"""Who calls the client API: bearer tokens, scope checks, and errors in Mastodon's shape.

A token comes in ``Authorization: Bearer …`` or, for clients that cannot set headers
(the streaming API's WebSocket), as the ``access_token`` query parameter. Errors are
``{"error": "…"}`` with Mastodon's statuses and wording where clients look at them:

- 401 ``The access token is invalid``: no token, or one unknown or revoked;
- 403 ``This action is outside the authorized scopes``: the token lacks the scope;
- 422 ``This method requires an authenticated user``: an app's own token where a person's
  is needed; 422 too for parameters that make no sense (Rails' "unprocessable entity");
- 404 ``Record not found``; 429 with ``Retry-After`` when rate-limited.

OAuth's own endpoints answer RFC 6749 errors instead (``{"error": "invalid_grant",
"error_description": "…"}``), from :class:`weft.api.mastodon.oauth_server.OAuthError`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, cast

from starlette.requests import Request
from starlette.responses import Response

from weft.api.mastodon.oauth_server import Grant, OAuthError, OAuthServer
from weft.api.mastodon.scopes import covers_any
from weft.api.responses import BASE_HEADERS, JSONResponse
from weft.errors import (
    AuthError,
    EncodingError,
    Forbidden,
    KeyFormatError,
    NotFound,
    UsageError,
    WeftError,
)
from weft.ratelimit import RateLimited

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["INVALID_TOKEN", "OUT_OF_SCOPE", "authorize", "authorize_if_token", "bearer_token", "endpoint",
           "error_json", "person_of", "site_of"]

log = logging.getLogger("weft.api.mastodon")

INVALID_TOKEN: Final = "The access token is invalid"
OUT_OF_SCOPE: Final = "This action is outside the authorized scopes"
NEEDS_USER: Final = "This method requires an authenticated user"

Handler = Callable[[Request], Awaitable[Response]]


def site_of(request: Request) -> Site:
    return cast("Site", request.app.state.site)


def error_json(status: int, body: dict[str, str], headers: dict[str, str] | None = None) -> JSONResponse:
    # The base headers are set here too: errors may leave before the middleware sees them.
    return JSONResponse(body, status_code=status, headers={**BASE_HEADERS, **(headers or {})})


def _status_of(exc: WeftError) -> int:
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, UsageError | EncodingError | KeyFormatError):  # content or a DID that cannot be read
        return 422
    return 500


def endpoint(handler: Handler) -> Handler:
    """A route that answers weft's errors as Mastodon does (see the module docstring)."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except OAuthError as exc:
            challenge = {"www-authenticate": 'Basic realm="weft"'} if exc.status == 401 else None
            return error_json(exc.status, {"error": exc.code, "error_description": str(exc)}, challenge)
        except WeftError as exc:
            status = _status_of(exc)
            if status >= 500:
                log.error("%s %s failed: %s", request.method, request.url.path, exc)
                return error_json(500, {"error": "internal error"})
            headers: dict[str, str] = {}
            if isinstance(exc, RateLimited):
                headers["retry-after"] = str(exc.retry_after_seconds)
            if status == 401:
                headers["www-authenticate"] = ('Bearer realm="weft", error="invalid_token", '
                                               f'error_description="{INVALID_TOKEN}"')
            message = "Record not found" if isinstance(exc, NotFound) else str(exc)
            return error_json(status, {"error": message}, headers)

    return run


def bearer_token(request: Request) -> str | None:
    """The token the request carries, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or None


async def authorize_if_token(request: Request, *any_of: str) -> Grant | None:
    """The request's grant if it carries a token (which must then be valid and hold one of
    ``any_of``); None for a request without one. For endpoints anyone may call."""
    if bearer_token(request) is None:
        return None
    return await authorize(request, *any_of, user=False)


async def authorize(request: Request, *any_of: str, user: bool = True) -> Grant:
    """The request's grant, which must hold one of the scopes ``any_of`` (none named: any
    token will do) and, with ``user``, act for a person rather than an app alone."""
    token = bearer_token(request)
    if token is None:
        raise AuthError(INVALID_TOKEN)
    grant: Grant | None = getattr(request.state, "grant", None)
    if grant is None:
        grant = await OAuthServer(site_of(request)).grant(token)
        request.state.grant = grant
    if any_of and not covers_any(grant.scopes, any_of):
        raise Forbidden(OUT_OF_SCOPE)
    if user and grant.account is None:
        raise UsageError(NEEDS_USER)
    return grant


def person_of(grant: Grant) -> Account:
    """The account a grant acts for (``authorize(..., user=True)`` made sure there is one)."""
    if grant.account is None:
        raise UsageError(NEEDS_USER)
    return grant.account
