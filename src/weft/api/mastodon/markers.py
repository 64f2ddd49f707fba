"""Read markers: where a person stopped reading their home timeline and notifications, so
that another device of theirs starts there.

``GET /api/v1/markers?timeline[]=home&timeline[]=notifications`` and ``POST`` with
``home[last_read_id]=…`` (a form) or ``{"home": {"last_read_id": "…"}}`` (JSON).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.params import ParamsError, read_params
from weft.api.mastodon.status_entities import marker_entity
from weft.api.responses import JSONResponse
from weft.social.notices import MARKER_TIMELINES

__all__ = ["ROUTES"]


@endpoint
async def get_markers(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "read:statuses"))
    wanted = (await read_params(request)).strings("timeline") or []
    found = await site_of(request).social.notices.markers(account, wanted)
    return JSONResponse(marker_entity(found))


@endpoint
async def set_markers(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "write:statuses"))
    params = await read_params(request)
    positions: dict[str, str] = {}
    for timeline in MARKER_TIMELINES:
        if timeline in params:
            last_read = params.section(timeline).values.get("last_read_id")
            if isinstance(last_read, int) and not isinstance(last_read, bool):
                last_read = str(last_read)
            if not isinstance(last_read, str):
                raise ParamsError(f"{timeline}[last_read_id] is missing")
            positions[timeline] = last_read
    if not positions:
        raise ParamsError("give home[last_read_id] or notifications[last_read_id]")
    found = await site_of(request).social.notices.set_markers(account, positions)
    return JSONResponse(marker_entity(found))


ROUTES: Final = [
    api_route("/api/v1/markers", get_markers, ["GET"]),
    api_route("/api/v1/markers", set_markers, ["POST"]),
]
