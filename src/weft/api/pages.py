"""The HTML face: one page of the node identity's feed (its public posts), rendered on the server.

No scripts and no external resources. The stylesheet is inline and named in
the page's Content-Security-Policy by its hash, so no other inline style or
script can run even if some text escaped its escaping.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from weft.api.native import node_of
from weft.api.responses import int_param

__all__ = ["ROUTES", "page_csp"]

PAGE_SIZE: Final = 40


def _short_did(did: str) -> str:
    prefix, _, rest = did.rpartition(":")
    return f"{prefix}:{rest[:8]}…" if len(rest) > 8 else did


def _iso_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="seconds")


def _human_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("weft.api", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(short_did=_short_did, iso_time=_iso_time, human_time=_human_time)
    return env


@cache
def _stylesheet() -> str:
    return _environment().get_template("style.css.html").render()


def page_csp() -> str:
    """The policy of our HTML pages: nothing but the one inline stylesheet."""
    digest = base64.b64encode(hashlib.sha256(_stylesheet().encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


async def feed_page(request: Request) -> HTMLResponse:
    node = node_of(request)
    before_raw = request.query_params.get("before")
    before = int_param(request, "before", 0, low=0) if before_raw else None
    me = node.local()
    profile = (await node.profile(me.did))["profile"]
    posts = await node.feed(limit=PAGE_SIZE, before_ts=before)
    html = _environment().get_template("feed.html").render(
        stylesheet=Markup(_stylesheet()),  # our own file, not user input
        name=profile.get("name") or "weft", bio=profile.get("bio"), did=me.did,
        posts=[post.to_json() for post in posts if post.visibility == "public"],
        older=posts[-1].ts if len(posts) == PAGE_SIZE else None,
    )
    return HTMLResponse(html, headers={"content-security-policy": page_csp(),
                                       "cache-control": "no-cache"})


ROUTES: Final = [Route("/", feed_page, methods=["GET"])]
