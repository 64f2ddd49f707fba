"""Timelines: home (with the compose form), local, public, a tag; and the front page that
strangers see. Each page holds ``PAGE_SIZE`` statuses and links to the older ones
(``?max_id=``), as Mastodon pages them.
"""

from __future__ import annotations

import re
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.core.text import normalize_hashtag
from weft.errors import NotFound, UsageError
from weft.site import Site
from weft.store.social import normal_tag
from weft.store.statuses import Page, TimelineKind
from weft.web.compose import ComposeForm
from weft.web.display import StatusView, status_view
from weft.web.pages import notice
from weft.web.rendering import render
from weft.web.visitors import Visitor, visitor

__all__ = ["PAGE_SIZE", "home", "local", "max_id", "public", "statuses_of", "tag"]

PAGE_SIZE: Final = 20
# What weft.core.text reads as a hashtag: word characters, and the joiners it allows inside.
_TAG: Final = re.compile(r"[\w\u00b7\u30fb\u200c]+")


def max_id(request: Request) -> int | None:
    """``?max_id=``: show what is older than this status id."""
    raw = request.query_params.get("max_id", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 20:
        raise UsageError("max_id must be a status id")
    return int(raw)


async def statuses_of(site: Site, me: Visitor | None, kind: TimelineKind, request: Request, *,
                      tag: str | None = None, account: int | None = None) -> list[StatusView]:
    """A page of a timeline as ``me`` may see it (the service decides what that is)."""
    viewer = me.account if me is not None else None
    found = await site.social.statuses.timeline(viewer, kind, Page(limit=PAGE_SIZE, max_id=max_id(request)),
                                                tag=tag, account=account)
    identity = viewer.identity if viewer is not None else None
    return [status_view(status, identity, site.base_url) for status in found]


async def home(request: Request, site: Site) -> Response:
    """``/``: signed in, the home timeline under the compose form; signed out, the front page."""
    me = await visitor(request, site)
    if me is None:
        statuses = await statuses_of(site, None, "local", request)
        return render(request, "front.html", title="Recent posts", heading=site.title, statuses=statuses,
                      page_size=PAGE_SIZE, notice=notice(request))
    statuses = await statuses_of(site, me, "home", request)
    compose = ComposeForm.blank(me) if max_id(request) is None else None
    return render(request, "timeline.html", title="Home", statuses=statuses, page_size=PAGE_SIZE,
                  compose=compose, empty="Nothing here yet: follow people to see their posts, "
                  "or write the first post yourself.", notice=notice(request))


async def _shared(request: Request, site: Site, kind: TimelineKind, title: str, empty: str, *,
                  tag: str | None = None) -> Response:
    me = await visitor(request, site)
    statuses = await statuses_of(site, me, kind, request, tag=tag)
    return render(request, "timeline.html", title=title, statuses=statuses, page_size=PAGE_SIZE,
                  compose=None, empty=empty, notice=notice(request))


async def local(request: Request, site: Site) -> Response:
    return await _shared(request, site, "local", "Local timeline", "Nobody here has posted in public yet.")


async def public(request: Request, site: Site) -> Response:
    return await _shared(request, site, "public", "Public timeline", "No public posts yet.")


async def tag(request: Request, site: Site) -> Response:
    name = normal_tag(normalize_hashtag(request.path_params["name"]))
    if name is None or not _TAG.fullmatch(name):
        raise NotFound("that is not a hashtag")
    return await _shared(request, site, "tag", f"#{name}", f"No public posts with #{name} yet.", tag=name)
