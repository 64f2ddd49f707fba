"""A status: its thread page, and what people do to it (like, boost, bookmark, edit, delete).

A status the visitor may not see is answered exactly as one that does not exist (404):
a page never reveals that a followers-only or direct post is there.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import Forbidden, NotFound, UsageError
from weft.ratelimit import RateLimited
from weft.site import Site
from weft.social import MAX_CHARACTERS, MAX_SUMMARY_CHARS
from weft.web.compose import ComposeForm
from weft.web.display import StatusView, iso_time, status_view, text_html
from weft.web.pages import acting, back, field, local_path, notice, see_other
from weft.web.rendering import render, status_for
from weft.web.visitors import Visitor, signed_in, visitor

__all__ = ["act", "delete", "delete_form", "edit", "edit_form", "parse_status_id", "thread"]

# The action in the URL -> (what it changes: a reaction kind, or bookmark; on or off).
ACTIONS: Final = {"like": ("favourite", True), "unlike": ("favourite", False),
                  "boost": ("reblog", True), "unboost": ("reblog", False),
                  "bookmark": ("bookmark", True), "unbookmark": ("bookmark", False)}


def parse_status_id(text: str) -> int:
    """A status id from a URL; anything else is not found (ids are below 2**63)."""
    if not text.isdigit() or len(text) > 19 or int(text) >= 2**63:
        raise NotFound("no such post")
    return int(text)


async def _shown(site: Site, me: Visitor | None, status_id: int) -> StatusView:
    status = await site.social.statuses.status(me.account if me else None, status_id)
    return status_view(status, me.account.identity if me else None, site.base_url)


async def thread(request: Request, site: Site) -> Response:
    """``/@handle/{id}``: the ancestors, the status, its edits, a reply form, the replies."""
    me = await visitor(request, site)
    viewer = me.account if me else None
    status_id = parse_status_id(request.path_params["status_id"])
    main = await _shown(site, me, status_id)
    if main.author.handle.lower() != request.path_params["handle"].lower():
        raise NotFound("no such post")
    ancestors, descendants = await site.social.statuses.context(viewer, status_id)
    identity = viewer.identity if viewer else None
    versions = []
    if main.edited_ts is not None:
        _, history = await site.social.statuses.history(viewer, status_id)
        versions = [{"ts": version["ts"], "iso": iso_time(version["ts"]), "html": text_html(version["text"] or "")}
                    for version in history]
    return render(request, "thread.html", title=f"Post by {main.author.name}", main=main,
                  ancestors=[status_view(s, identity, site.base_url) for s in ancestors],
                  descendants=[status_view(s, identity, site.base_url) for s in descendants],
                  versions=versions, compose=ComposeForm.blank(me, reply_to=main) if me else None,
                  notice=notice(request))


async def act(request: Request, site: Site) -> Response:
    """``POST /statuses/{id}/{action}``: like, boost or bookmark, or undo it; back to the page."""
    me, form = await acting(request, site)
    status_id = parse_status_id(request.path_params["status_id"])
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        raise NotFound("no such action")
    kind, on = action
    if kind == "bookmark":
        await site.social.posting.bookmark(me.account, status_id, on=on)
    else:
        await site.social.posting.react(me.account, status_id, kind, on=on)
    return back(form, "/", anchor=f"s-{status_id}")


async def _own(site: Site, me: Visitor, status_id: int) -> StatusView:
    shown = await _shown(site, me, status_id)
    if not shown.mine:
        raise Forbidden("only its author can change a post")
    return shown


def _next(request: Request, default: str) -> str:
    return local_path(request.query_params.get("next"), default)


async def edit_form(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    shown = await _own(site, me, parse_status_id(request.path_params["status_id"]))
    return render(request, "edit.html", title="Edit the post", post=shown, me=me, text=shown.text,
                  summary=shown.summary or "", next=_next(request, shown.url), limit=MAX_CHARACTERS,
                  summary_limit=MAX_SUMMARY_CHARS)


async def edit(request: Request, site: Site) -> Response:
    me, form = await acting(request, site)
    status_id = parse_status_id(request.path_params["status_id"])
    shown = await _own(site, me, status_id)
    text = field(form, "text", limit=MAX_CHARACTERS * 4, label="the post")
    summary = field(form, "summary", limit=MAX_SUMMARY_CHARS * 4, label="the content warning")
    try:
        await site.social.posting.edit(me.account, status_id, text=text, summary=summary,
                                       sensitive=bool(summary.strip()) or None)
    except (UsageError, RateLimited) as exc:
        return render(request, "edit.html", title="Edit the post", post=shown, me=me, text=text, summary=summary,
                      next=local_path(field(form, "next", limit=2000), shown.url), limit=MAX_CHARACTERS,
                      summary_limit=MAX_SUMMARY_CHARS, error=str(exc), status=status_for(exc))
    return back(form, shown.url, notice="edited", anchor=f"s-{status_id}")


async def delete_form(request: Request, site: Site) -> Response:
    """The confirm step of deleting (a page, so that no script is needed to ask)."""
    me = await signed_in(request, site)
    shown = await _own(site, me, parse_status_id(request.path_params["status_id"]))
    return render(request, "delete.html", title="Delete the post?", post=shown, me=me,
                  next=_next(request, shown.author.url))


async def delete(request: Request, site: Site) -> Response:
    me, form = await acting(request, site)
    status_id = parse_status_id(request.path_params["status_id"])
    shown = await _own(site, me, status_id)
    await site.social.posting.delete(me.account, status_id, keep_media=False)  # no redraft here: images go too
    target = local_path(field(form, "next", limit=2000), shown.author.url)
    if target.split("?", 1)[0].split("#", 1)[0] == shown.url:  # its own page is gone with it
        target = shown.author.url
    return see_other(target + ("&" if "?" in target else "?") + "notice=deleted")
