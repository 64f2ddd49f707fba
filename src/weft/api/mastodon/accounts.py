"""Accounts: who am I (``verify_credentials``), change my profile (``update_credentials``),
and look someone up by ``acct`` or by id.

Anyone may look people up; a token, when given, must allow reading accounts.

An avatar or a header comes as a file of a multipart ``update_credentials``: it is
re-encoded (weft.media.process_image, on the uploads' one worker, off the event loop),
kept in the site's blob store, and the profile entry names it by URL,
``{base}/media/{blob}``, as peers can fetch it. An image that cannot be read refuses the
whole request, so nothing is half done.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import UploadFile
from starlette.requests import Request

from weft.api.mastodon.auth import authorize, authorize_if_token, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.directory import Directory, ProfileChange
from weft.api.mastodon.entities import account_entity, credential_account_entity
from weft.api.mastodon.params import MAX_PARAMS, Params, read_params
from weft.api.responses import JSONResponse
from weft.errors import UsageError

__all__ = ["MAX_PROFILE_IMAGE_BYTES", "PROFILE_IMAGE_SIDES", "ROUTES", "profile_change"]

READ_ACCOUNTS: Final = ("read:accounts",)
MAX_PROFILE_IMAGE_BYTES: Final = 8 * 1024 * 1024
PROFILE_IMAGE_SIDES: Final = {"avatar": 400, "header": 1500}  # the longer side, in pixels, as Mastodon keeps them
_TEXT_LIMIT: Final = 10_000  # far above any field's own limit, which ProfileChange words better


def profile_change(params: Params, images: dict[str, str] | None = None) -> ProfileChange:
    """What an ``update_credentials`` request asks for (form or JSON alike); ``images`` are the
    URLs of the avatar and header it brought, once kept."""
    images = images or {}
    if params.files - set(images):
        raise UsageError(f"unexpected file {sorted(params.files - set(images))[0][:60]!r}")
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
        avatar=images.get("avatar"), header=images.get("header"),
    )


async def _image_files(request: Request) -> dict[str, bytes]:
    """The avatar and header files of a multipart request, read before the other parameters
    (which then come from the same parsed form)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        return {}
    found: dict[str, bytes] = {}
    async with request.form(max_files=4, max_fields=MAX_PARAMS) as form:
        for name in PROFILE_IMAGE_SIDES:
            value = form.get(name)
            if isinstance(value, UploadFile):
                data = await value.read(MAX_PROFILE_IMAGE_BYTES + 1)
                if len(data) > MAX_PROFILE_IMAGE_BYTES:
                    raise UsageError(f"the {name} is larger than {MAX_PROFILE_IMAGE_BYTES:,} bytes")
                found[name] = data
    return found


@endpoint
async def verify_credentials(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "profile", "read:accounts"))
    person = await Directory(site_of(request)).person(account.identity)
    return JSONResponse(credential_account_entity(person, account, site_of(request).base_url))


@endpoint
async def update_credentials(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "write:accounts"))
    files = await _image_files(request)
    params = await read_params(request)
    profile_change(params, dict.fromkeys(files, "")).checked()  # refuse bad values before working on images
    site = site_of(request)
    images: dict[str, str] = {}
    for name, data in files.items():
        blob = await site.social.uploads.profile_image(data, max_side=PROFILE_IMAGE_SIDES[name])
        images[name] = f"{site.base_url}/media/{blob}"
    change = profile_change(params, images)
    person = await Directory(site).update_profile(account, change)
    fresh = await site.accounts.get(account.id)  # the settings just changed
    return JSONResponse(credential_account_entity(person, fresh, site.base_url))


@endpoint
async def lookup(request: Request) -> JSONResponse:
    grant = await authorize_if_token(request, *READ_ACCOUNTS)
    acct = request.query_params.get("acct", "")
    if not acct.strip():
        raise UsageError("acct is missing")
    site = site_of(request)
    # A person signed in may have someone of another server looked up there; anyone else
    # finds only whom this node holds (an anonymous request must not make it fetch).
    person = await Directory(site).lookup(acct[:400], resolve=grant is not None and grant.account is not None)
    return JSONResponse(account_entity(person, site.base_url))


@endpoint
async def account(request: Request) -> JSONResponse:
    await authorize_if_token(request, *READ_ACCOUNTS)
    site = site_of(request)
    person = await Directory(site).person_by_id_text(request.path_params["id"])
    return JSONResponse(account_entity(person, site.base_url))


ROUTES: Final = [
    api_route("/api/v1/accounts/verify_credentials", verify_credentials, ["GET"]),
    api_route("/api/v1/accounts/update_credentials", update_credentials, ["PATCH"],
              max_body=2 * MAX_PROFILE_IMAGE_BYTES + 1024 * 1024),
    api_route("/api/v1/accounts/lookup", lookup, ["GET"]),
    api_route("/api/v1/accounts/{id}", account, ["GET"]),
]
