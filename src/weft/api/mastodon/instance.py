"""What a client learns about the server before anything else: ``/api/v1/instance``,
``/api/v2/instance``, peers, custom emojis, and the default avatar and header images.

The version starts with a Mastodon version, because clients (Mastodon.py among them)
parse it to decide which endpoints exist: we say which Mastodon we answer like, then who
we are. ``api_versions.mastodon`` is the API version of that Mastodon release.
"""

from __future__ import annotations

import io
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Final

from PIL import Image
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from weft.api.mastodon.auth import endpoint, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.directory import MAX_FIELD_CHARS, MAX_FIELDS, MAX_NOTE_CHARS, Directory
from weft.api.mastodon.entities import DEFAULT_AVATAR_PATH, DEFAULT_HEADER_PATH, account_entity
from weft.api.responses import JSONResponse
from weft.media.images import MAX_DESCRIPTION_CHARS
from weft.social import MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS
from weft.store import people
from weft.store.accounts import count_accounts

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["IMAGE_MATRIX_LIMIT", "IMAGE_SIZE_LIMIT", "MASTODON_API_VERSION", "MASTODON_VERSION",
           "MAX_CHARACTERS", "MAX_MEDIA_ATTACHMENTS", "ROUTES", "SUPPORTED_MIME_TYPES", "version_string"]

MASTODON_VERSION: Final = "4.3.0"
MASTODON_API_VERSION: Final = 2
CHARACTERS_RESERVED_PER_URL: Final = 23
SUPPORTED_MIME_TYPES: Final = ("image/jpeg", "image/png", "image/webp", "image/gif")
IMAGE_SIZE_LIMIT: Final = 16 * 1024 * 1024         # bytes of one upload
IMAGE_MATRIX_LIMIT: Final = 7680 * 4320            # pixels of one upload
POLL_LIMITS: Final = {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                      "max_expiration": 2_629_746}
SOURCE_URL: Final = ""  # weft has no public source address yet; Mastodon puts its repository here


def version_string() -> str:
    """``4.3.0 (compatible; weft 0.1.0)``."""
    try:
        ours = version("weft")
    except PackageNotFoundError:  # running from a source tree that was never installed
        ours = "unknown"
    return f"{MASTODON_VERSION} (compatible; weft {ours})"


def _streaming_url(site: Site) -> str:
    return ("wss://" if site.base_url.startswith("https://") else "ws://") + site.host


def _statuses() -> dict[str, int]:
    return {"max_characters": MAX_CHARACTERS, "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
            "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL}


def _media() -> dict[str, Any]:
    return {"supported_mime_types": list(SUPPORTED_MIME_TYPES), "image_size_limit": IMAGE_SIZE_LIMIT,
            "image_matrix_limit": IMAGE_MATRIX_LIMIT, "description_limit": MAX_DESCRIPTION_CHARS,
            "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0}


async def _facts(site: Site) -> dict[str, Any]:
    """What both instance versions say, gathered once."""
    async with site.node.db.read() as conn:
        users = await count_accounts(conn)
        statuses = await people.count_local_posts(conn, now_ms=site.node.clock())
        admin = await people.first_admin_identity(conn)
    contact = None if admin is None else account_entity(await Directory(site).person(admin), site.base_url)
    mode = await site.accounts.registration_mode()
    return {"users": users, "statuses": statuses, "contact": contact, "mode": mode}


@endpoint
async def instance_v1(request: Request) -> JSONResponse:
    site = site_of(request)
    facts = await _facts(site)
    return JSONResponse({
        "uri": site.host, "title": site.title, "short_description": "", "description": "",
        "email": "", "version": version_string(), "urls": {"streaming_api": _streaming_url(site)},
        "stats": {"user_count": facts["users"], "status_count": facts["statuses"], "domain_count": 0},
        "thumbnail": None, "languages": ["en"],
        "registrations": facts["mode"] != "closed", "approval_required": facts["mode"] == "approval",
        "invites_enabled": False,
        "configuration": {"accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
                          "statuses": _statuses(), "media_attachments": _media(), "polls": POLL_LIMITS},
        "contact_account": facts["contact"], "rules": [],
    })


@endpoint
async def instance_v2(request: Request) -> JSONResponse:
    site = site_of(request)
    facts = await _facts(site)
    return JSONResponse({
        "domain": site.host, "title": site.title, "version": version_string(), "source_url": SOURCE_URL,
        "description": "", "usage": {"users": {"active_month": facts["users"]}},
        "thumbnail": {"url": site.base_url + DEFAULT_HEADER_PATH}, "icon": [], "languages": ["en"],
        "configuration": {
            "urls": {"streaming": _streaming_url(site), "status": None, "about": f"{site.base_url}/",
                     "privacy_policy": None, "terms_of_service": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0, "max_note_length": MAX_NOTE_CHARS,
                         "max_profile_fields": MAX_FIELDS, "profile_field_name_limit": MAX_FIELD_CHARS,
                         "profile_field_value_limit": MAX_FIELD_CHARS},
            "statuses": _statuses(), "media_attachments": _media(), "polls": POLL_LIMITS,
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": facts["mode"] != "closed", "approval_required": facts["mode"] == "approval",
                          "reason_required": facts["mode"] == "approval", "message": None, "min_age": None,
                          "url": None},
        "api_versions": {"mastodon": MASTODON_API_VERSION},
        "contact": {"email": "", "account": facts["contact"]},
        "rules": [],
    })


@endpoint
async def empty_list(request: Request) -> JSONResponse:
    """Peers (none: weft's peers are not Mastodon domains) and custom emojis (none yet)."""
    return JSONResponse([])


@cache
def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# Client apps on other origins (web clients) show these in <img>: allow that.
_IMAGE_HEADERS: Final = {"cache-control": "public, max-age=86400", "cross-origin-resource-policy": "cross-origin"}


async def default_avatar(request: Request) -> Response:
    return Response(_png(400, 400, (155, 160, 170)), media_type="image/png", headers=_IMAGE_HEADERS)


async def default_header(request: Request) -> Response:
    return Response(_png(1500, 500, (206, 210, 216)), media_type="image/png", headers=_IMAGE_HEADERS)


def _both(path: str, handler: Any) -> list[Route]:
    # Mastodon.py asks for /api/v1/instance/ with the slash; a redirect would cost a round trip.
    return [api_route(path, handler, ["GET"]), api_route(path + "/", handler, ["GET"])]


ROUTES: Final = [
    *_both("/api/v1/instance", instance_v1),
    *_both("/api/v2/instance", instance_v2),
    api_route("/api/v1/instance/peers", empty_list, ["GET"]),
    api_route("/api/v1/custom_emojis", empty_list, ["GET"]),
    Route(DEFAULT_AVATAR_PATH, default_avatar, methods=["GET"]),
    Route(DEFAULT_HEADER_PATH, default_header, methods=["GET"]),
]
