"""Reporting someone to this server's moderators from their page (``/@handle/report``):
a category, a comment, some of their recent posts, and, for a Fediverse person, whether
to send the report on to their server too (as a Flag from this server, without the
reporter's name: weft.social.moderation)."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import NotFound, UsageError
from weft.site import Site
from weft.social.moderation import MAX_COMMENT_CHARS, REPORT_CATEGORIES
from weft.web.display import person_view
from weft.web.pages import acting, field, see_other
from weft.web.profile_pages import person_named
from weft.web.rendering import render
from weft.web.timeline_pages import statuses_of
from weft.web.visitors import signed_in

__all__ = ["report_form", "send_report"]

MAX_POSTS: Final = 20
CATEGORY_LABELS: Final = {"spam": "Spam", "legal": "Illegal content", "violation": "Breaks this server's rules",
                          "other": "Something else"}


async def report_form(request: Request, site: Site) -> Response:
    """``GET /@handle/report``: the form, with the person's recent posts the visitor may see."""
    me = await signed_in(request, site)
    person = await person_named(site, request.path_params["handle"])
    if person.identity == me.account.identity:
        raise UsageError("you cannot report yourself")
    shown = person_view(person, site.base_url)
    statuses = [s for s in await statuses_of(site, me, "account", request, account=person.identity)
                if s.boosted_by is None][:MAX_POSTS]
    return render(request, "report.html", title=f"Report {shown.name}", person=shown, me=me, statuses=statuses,
                  categories=[(name, CATEGORY_LABELS.get(name, name)) for name in REPORT_CATEGORIES],
                  server=shown.handle.partition("@")[2] if person.remote is not None else None, max_comment=MAX_COMMENT_CHARS)


async def send_report(request: Request, site: Site) -> Response:
    """``POST /@handle/report``: the report made, then back to their page."""
    me, form = await acting(request, site)
    person = await person_named(site, request.path_params["handle"])
    entries: list[str] = []
    for raw in form.getlist("status")[:MAX_POSTS]:
        if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 20:
            raise NotFound("no such post")
        status = await site.social.statuses.status(me.account, int(raw))   # NotFound unless visible
        if status.boost is not None or status.row.author != person.identity:
            raise UsageError(f"post {raw} is not by the person reported")
        entries.append(status.row.entry_id)
    await site.social.moderation.report(
        me.account, person.identity, entries=entries, comment=field(form, "comment", limit=MAX_COMMENT_CHARS),
        category=field(form, "category", limit=20) or "other", forward=form.get("forward") == "on")
    return see_other(f"{person_view(person, site.base_url).url}?notice=reported")
