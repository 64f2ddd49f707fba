"""Media uploads: ``POST /api/v2/media`` answers at once (202, ``url`` null) while one
background worker re-encodes the image; ``GET /api/v1/media/:id`` tells how it went (206
still processing, 200 ready, 422 with the reason it failed); ``PUT`` changes the alt text
until a post carries the image. ``POST /api/v1/media``, for old clients, waits for the
result. Images only (JPEG, PNG, WebP, GIF); ``focus`` and custom thumbnails are not kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.datastructures import UploadFile
from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.paging import id_in_path
from weft.api.mastodon.params import ParamsError, read_params
from weft.api.mastodon.status_entities import upload_entity
from weft.api.responses import JSONResponse
from weft.media.images import MAX_DESCRIPTION_CHARS
from weft.social import Upload
from weft.social.uploads import MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from weft.accounts import Account

__all__ = ["ROUTES"]

WRITE: Final = ("write:media",)
SYNCHRONOUS_WAIT_S: Final = 60.0
_FORM_SLACK: Final = 64 * 1024   # multipart boundaries, headers and the description


def _answer(upload: Upload, base_url: str) -> JSONResponse:
    if upload.state == "failed":
        raise ParamsError(upload.error or "the image could not be processed")
    return JSONResponse(upload_entity(upload, base_url), status_code=206 if upload.state == "processing" else 200)


async def _receive(request: Request) -> tuple[Account, Upload]:
    """Store the uploaded file of a multipart request and start processing it."""
    account = person_of(await authorize(request, *WRITE))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise ParamsError("send the image as multipart/form-data, in the field 'file'")
    async with request.form(max_files=2, max_fields=16, max_part_size=MAX_DESCRIPTION_CHARS * 4 + 1024) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ParamsError("the image is missing: send it in the field 'file'")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        description = form.get("description")
    if description is not None and not isinstance(description, str):
        raise ParamsError("the description must be text")
    return account, await site_of(request).social.uploads.upload(account, data, description=description or None)


@endpoint
async def upload_v2(request: Request) -> JSONResponse:
    _, upload = await _receive(request)
    if upload.state == "processing":
        return JSONResponse(upload_entity(upload, site_of(request).base_url), status_code=202)
    return _answer(upload, site_of(request).base_url)


@endpoint
async def upload_v1(request: Request) -> JSONResponse:
    account, upload = await _receive(request)
    done = await site_of(request).social.uploads.wait(account, upload.id, seconds=SYNCHRONOUS_WAIT_S)
    if done.state == "processing":
        return JSONResponse(upload_entity(done, site_of(request).base_url), status_code=202)
    return _answer(done, site_of(request).base_url)


@endpoint
async def show(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    site = site_of(request)
    return _answer(await site.social.uploads.get(account, id_in_path(request)), site.base_url)


@endpoint
async def update(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, *WRITE))
    params = await read_params(request)
    site = site_of(request)
    upload = await site.social.uploads.get(account, id_in_path(request))
    if "description" in params:
        upload = await site.social.uploads.describe(account, upload.id,
                                                    params.text("description", limit=MAX_DESCRIPTION_CHARS * 2))
    return _answer(upload, site.base_url)


_MAX_BODY: Final = MAX_UPLOAD_BYTES + _FORM_SLACK

ROUTES: Final = [
    api_route("/api/v2/media", upload_v2, ["POST"], max_body=_MAX_BODY),
    api_route("/api/v1/media", upload_v1, ["POST"], max_body=_MAX_BODY),
    api_route("/api/v1/media/{id}", show, ["GET"]),
    api_route("/api/v1/media/{id}", update, ["PUT"]),
]
