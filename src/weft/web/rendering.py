"""Turning templates into HTML responses, and weft errors into pages a person can read.

Pages are rendered on the server with autoescaping and strict undefined variables. They
load one stylesheet and one small script from ``/static/`` (the pages work without it: it
only counts characters as people type), so their Content-Security-Policy allows styles
and scripts from this origin and no inline ones, images from here and https (avatars a
profile names), and forms posting back here: a piece of text that slipped past escaping
still could not run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from weft.errors import (
    AuthError,
    Conflict,
    EncodingError,
    Forbidden,
    KeyFormatError,
    NotFound,
    UsageError,
    WeftError,
)
from weft.ratelimit import RateLimited
from weft.web.display import iso_time

__all__ = ["PAGE_CSP", "here", "render", "render_error", "status_for"]

log = logging.getLogger("weft.web")

PAGE_CSP: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
                   "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# Pages show who is signed in and carry CSRF tokens: no shared cache may keep them.
PAGE_HEADERS: Final = {"content-security-policy": PAGE_CSP, "cache-control": "no-store"}


def _date(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _sentence(text: str) -> str:
    """Our error messages are written as clauses ("the username 'bob' is taken"): a page
    shows them as sentences."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("weft.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(date=_date, sentence=_sentence, iso=iso_time, plural=_plural)
    return env


def here(request: Request) -> str:
    """This page's path and query (less any notice): where its forms come back to (``next``)."""
    query = urlencode([(key, value) for key, value in request.query_params.multi_items() if key != "notice"])
    return request.url.path + (f"?{query}" if query else "")


def render(request: Request, template: str, *, title: str, status: int = 200,
           headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    """The page ``template`` for this request.

    Every template sees ``site_title``, ``title``, ``visitor`` (the signed-in person, or
    None; see weft.web.visitors), and ``error`` and ``notice`` (None unless given).
    """
    site = getattr(request.state, "site", None)  # set by weft.web.pages.page
    values: dict[str, Any] = {
        "site_title": site.title if site is not None else "weft",
        "site_host": site.host if site is not None else "",
        "title": title,
        "heading": None,           # the page's <h1>, when it is not its title
        "request_path": request.url.path,
        "here": here(request),
        "visitor": getattr(request.state, "visitor", None),
        "error": None,
        "notice": None,
        **context,
    }
    html = _environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def status_for(exc: WeftError) -> int:
    """The HTTP status of a page that shows ``exc``."""
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, UsageError | EncodingError | KeyFormatError):
        return 422
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    return 500


_HEADINGS: Final = {401: "Please sign in again", 403: "Not allowed", 404: "Not found",
                    409: "That clashes with something", 422: "That did not work",
                    429: "Too many attempts", 500: "Something went wrong"}


def render_error(request: Request, exc: WeftError) -> HTMLResponse:
    """A page saying what went wrong, with the status and headers that go with it."""
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after_seconds)
    if status >= 500:
        # Internal problems are logged for the operator, not shown to strangers.
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
        message = "the server could not do this; the operator can find out why in its log"
    else:
        message = str(exc)
    return render(request, "error.html", title=_HEADINGS[status], status=status, headers=headers,
                  message=message)
