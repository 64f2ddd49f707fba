"""Client apps: ``POST /api/v1/apps`` registers one, ``GET /api/v1/apps/verify_credentials``
says which app a token belongs to.

Registration is open, as on Mastodon: an app is only a name, where to send people back
and what it may ask for; nothing happens until a person authorizes it.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import application_entity
from weft.api.mastodon.oauth_server import OAuthServer
from weft.api.mastodon.params import read_params
from weft.api.responses import JSONResponse
from weft.errors import NotFound

__all__ = ["ROUTES"]


@endpoint
async def create_app(request: Request) -> JSONResponse:
    params = await read_params(request)
    uris = params.strings("redirect_uris") or []
    # Mastodon takes several URIs in one string, a line each, as well as a list.
    uris = [line for uri in uris for line in uri.splitlines()]
    app, secret = await OAuthServer(site_of(request)).register_app(
        params.text("client_name", limit=1000), uris, params.text("scopes", limit=2000),
        params.text("website", limit=1000))
    return JSONResponse(application_entity(app, client_secret=secret))


@endpoint
async def verify_app(request: Request) -> JSONResponse:
    grant = await authorize(request, user=False)
    if grant.app is None:
        raise NotFound("this token belongs to no app")
    return JSONResponse(application_entity(grant.app))


ROUTES: Final = [
    api_route("/api/v1/apps", create_app, ["POST"]),
    api_route("/api/v1/apps/verify_credentials", verify_app, ["GET"]),
]
