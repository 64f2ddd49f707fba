"""OAuth 2's machine endpoints: ``POST /oauth/token``, ``POST /oauth/revoke``, and the
server's metadata at ``/.well-known/oauth-authorization-server`` (RFC 8414), which
clients such as Mastodon.py read to find the others and learn what is supported.

Grants: ``authorization_code`` (with PKCE), ``client_credentials`` (a token for the app
itself, acting for no one) and ``password``, which Mastodon dropped in 4.4 but older
clients and Mastodon.py's ``log_in(username, password)`` still use; it is rate-limited
per client address like the web login. The client authenticates with its secret in the
body (``client_secret_post``) or in HTTP Basic (``client_secret_basic``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import unquote_plus

from starlette.requests import Request

from weft.api.mastodon.auth import endpoint, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.oauth_server import IssuedToken, OAuthError, OAuthServer
from weft.api.mastodon.params import Params, read_params
from weft.api.mastodon.scopes import KNOWN, scope_text
from weft.api.responses import JSONResponse
from weft.errors import AuthError, Forbidden
from weft.ratelimit import limit

__all__ = ["GRANT_TYPES", "ROUTES", "client_address"]

GRANT_TYPES: Final = ("authorization_code", "client_credentials", "password")
_NO_STORE: Final = {"cache-control": "no-store", "pragma": "no-cache"}


def client_address(request: Request) -> str:
    """The key a client's attempts are counted under (its address as the server sees it)."""
    return request.client.host if request.client else "unknown"


def _client_credentials(request: Request, params: Params) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded.strip():
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "the Basic credentials are not base64 of id:secret", 401) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "the Basic credentials are not base64 of id:secret", 401)
        return unquote_plus(client_id), unquote_plus(secret)
    return params.text("client_id", limit=200), params.text("client_secret", limit=200)


def _token_json(issued: IssuedToken) -> JSONResponse:
    return JSONResponse({"access_token": issued.token, "token_type": "Bearer", "scope": scope_text(issued.scopes),
                         "created_at": issued.created_at // 1000}, headers=_NO_STORE)


@endpoint
async def token(request: Request) -> JSONResponse:
    site = site_of(request)
    params = await read_params(request)
    grant_type = params.text("grant_type", limit=100)
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is missing")
    if grant_type not in GRANT_TYPES:
        raise OAuthError("unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}")
    server = OAuthServer(site)
    app = await server.authenticate_client(*_client_credentials(request, params))
    if grant_type == "authorization_code":
        issued = await server.exchange_code(app, params.text("code", limit=200),
                                            params.text("redirect_uri", limit=2000),
                                            params.text("code_verifier", limit=200))
    elif grant_type == "client_credentials":
        issued = await server.issue(app, None, server.requested_scopes(app, params.text("scope", limit=2000)))
    else:
        scopes = server.requested_scopes(app, params.text("scope", limit=2000))
        limit(site.limits.login, client_address(request))
        try:
            account = await site.accounts.login(params.text("username", limit=320) or "",
                                                params.text("password", limit=1000) or "")
        except (AuthError, Forbidden) as exc:
            raise OAuthError("invalid_grant", str(exc)) from None
        issued = await server.issue(app, account.id, scopes)
    return _token_json(issued)


@endpoint
async def revoke(request: Request) -> JSONResponse:
    params = await read_params(request)
    server = OAuthServer(site_of(request))
    app = await server.authenticate_client(*_client_credentials(request, params))
    await server.revoke(app, params.text("token", limit=200))
    return JSONResponse({}, headers=_NO_STORE)


@endpoint
async def metadata(request: Request) -> JSONResponse:
    base = site_of(request).base_url
    return JSONResponse({
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(KNOWN),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })


ROUTES: Final = [
    api_route("/oauth/token", token, ["POST"]),
    api_route("/oauth/revoke", revoke, ["POST"]),
    api_route("/.well-known/oauth-authorization-server", metadata, ["GET"]),
]
