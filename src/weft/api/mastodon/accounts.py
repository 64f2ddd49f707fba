"""Accounts: who am I (``verify_credentials``), change my profile (``update_credentials``),
and look someone up by ``acct`` or by id.

Anyone may look people up; a token, when given, must allow reading accounts. Avatar and
header uploads are not taken yet: a request with either is refused rather than half done.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, authorize_if_token, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.directory import Directory, ProfileChange
from weft.api.mastodon.entities import account_entity, credential_account_entity
from weft.api.mastodon.params import Params, read_params
from weft.api.responses import JSONResponse
from weft.errors import UsageError

__all__ = ["ROUTES", "profile_change"]

READ_ACCOUNTS: Final = ("read:accounts",)
_TEXT_LIMIT: Final = 10_000  # far above any field's own limit, which ProfileChange words better


def profile_change(params: Params) -> ProfileChange:
    """What an ``update_credentials`` request asks for (form or JSON alike)."""
    if params.files & {"avatar", "header"}:
        raise UsageError("avatar and header uploads are not supported yet")
    fields = None
    items = params.items("fields_attributes")
    if items is not None:
        pairs = [(item.text("name", limit=_TEXT_LIMIT) or "", item.text("value", limit=_TEXT_LIMIT) or "")
                 for item in items]
        fields = [(name.strip(), value.strip()) for name, value in pairs if name.strip() or value.strip()]
    source = params.section("source")
    return ProfileChange(
        display_name=params.text("display_name", limit=_TEXT_LIMIT),
        note=params.text("note", limit=_TEXT_LIMIT),
        locked=params.flag("locked"), bot=params.flag("bot"), discoverable=params.flag("discoverable"),
        fields=fields,
        privacy=source.text("privacy", limit=50) or None,
        sensitive=source.flag("sensitive"),
        language=source.text("language", limit=50) or None,
    )


@endpoint
async def verify_credentials(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "profile", "read:accounts"))
    person = await Directory(site_of(request)).person(account.identity)
    return JSONResponse(credential_account_entity(person, account, site_of(request).base_url))


@endpoint
async def update_credentials(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "write:accounts"))
    change = profile_change(await read_params(request))
    site = site_of(request)
    person = await Directory(site).update_profile(account, change)
    fresh = await site.accounts.get(account.id)  # the settings just changed
    return JSONResponse(credential_account_entity(person, fresh, site.base_url))


@endpoint
async def lookup(request: Request) -> JSONResponse:
    await authorize_if_token(request, *READ_ACCOUNTS)
    acct = request.query_params.get("acct", "")
    if not acct.strip():
        raise UsageError("acct is missing")
    site = site_of(request)
    return JSONResponse(account_entity(await Directory(site).lookup(acct[:400]), site.base_url))


@endpoint
async def account(request: Request) -> JSONResponse:
    await authorize_if_token(request, *READ_ACCOUNTS)
    site = site_of(request)
    person = await Directory(site).person_by_id_text(request.path_params["id"])
    return JSONResponse(account_entity(person, site.base_url))


ROUTES: Final = [
    api_route("/api/v1/accounts/verify_credentials", verify_credentials, ["GET"]),
    api_route("/api/v1/accounts/update_credentials", update_credentials, ["PATCH"]),
    api_route("/api/v1/accounts/lookup", lookup, ["GET"]),
    api_route("/api/v1/accounts/{id}", account, ["GET"]),
]
