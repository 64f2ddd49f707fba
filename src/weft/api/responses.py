"""JSON responses, errors as ``{"error": "..."}``, and the headers every response carries."""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from weft.core.encoding import MAX_SAFE_INT
from weft.errors import (
    AuthError,
    Conflict,
    EncodingError,
    Forbidden,
    KeyFormatError,
    NoIdentity,
    NotFound,
    UsageError,
    WeftError,
)
from weft.ratelimit import RateLimited

__all__ = ["BASE_HEADERS", "JSONResponse", "error_response", "int_param", "status_for"]

# Every response: no MIME sniffing, no referrer leaking to other sites, no framing, and a
# content security policy that allows nothing (pages that need more set their own).
BASE_HEADERS: Final = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "cross-origin-resource-policy": "same-origin",
}


class JSONResponse(Response):
    """JSON encoded with orjson (UTF-8, no NaN, integers as they are)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str) -> JSONResponse:
    """An error as JSON; it carries the base headers itself, since a 500 is sent from
    outside the middleware stack."""
    return JSONResponse({"error": message}, status_code=status, headers=BASE_HEADERS)


def status_for(exc: WeftError) -> int:
    if isinstance(exc, NotFound | NoIdentity):
        return 404
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, KeyFormatError | UsageError | EncodingError):
        return 400
    return 500


_INTEGER: Final = re.compile(r"-?[0-9]+")


def int_param(request: Request, name: str, default: int, *, low: int, high: int | None = None,
              clamp: bool = False) -> int:
    """An integer query parameter; out of range is a 400, or clamped to ``high`` with ``clamp``.

    Only ASCII digits (Python's ``int`` also takes ``1_000`` and other scripts' digits), and
    never past the protocol's largest integer, which every column holds (a 500 otherwise).
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise UsageError(f"query parameter {name!r} must be an integer")
    try:
        value = int(raw)
    except ValueError:  # more digits than Python converts (4300)
        raise UsageError(f"query parameter {name!r} is out of range") from None
    if high is None and value > MAX_SAFE_INT:
        raise UsageError(f"query parameter {name!r} must be at most {MAX_SAFE_INT}")
    if value < low:
        raise UsageError(f"query parameter {name!r} must be at least {low}")
    if high is not None and value > high:
        if clamp:
            return high
        raise UsageError(f"query parameter {name!r} must be at most {high}")
    return value
