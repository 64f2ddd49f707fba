"""People's pages: a profile with the posts the visitor may see, who follows them and whom
they follow, and the buttons to follow, block or mute them. A Fediverse person's page is
``/@user@host``: who they are as their server says, and the posts of theirs held here."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import NotFound, UsageError
from weft.site import Site
from weft.social import Relationship
from weft.social.names import identity_named
from weft.store.people import Person
from weft.web.display import person_view
from weft.web.pages import acting, back, notice
from weft.web.rendering import render
from weft.web.timeline_pages import PAGE_SIZE, statuses_of
from weft.web.visitors import visitor

__all__ = ["followers", "following", "person_named", "profile", "relate"]

PEOPLE_PAGE: Final = 40
RELATIONS: Final = ("follow", "unfollow", "block", "unblock", "mute", "unmute")


async def person_named(site: Site, handle: str) -> Person:
    """The person a handle in a URL names (NotFound if none here)."""
    async with site.node.db.read() as conn:
        identity = await identity_named(conn, handle, local_host=site.host)
    if identity is None:
        raise NotFound(f"nobody called @{handle[:40]} here")
    return await site.social.following.person(identity)


async def profile(request: Request, site: Site) -> Response:
    """``/@handle``: who they are, and their posts that the visitor may see."""
    me = await visitor(request, site)
    person = await person_named(site, request.path_params["handle"])
    relation: Relationship | None = None
    if me is not None and me.account.identity != person.identity:
        relation = (await site.social.following.relationships(me.account, [person.identity]))[0]
    statuses = await statuses_of(site, me, "account", request, account=person.identity)
    shown = person_view(person, site.base_url)
    return render(request, "profile.html", title=f"{shown.name} (@{shown.handle})", heading=shown.name,
                  person=shown, relation=relation, statuses=statuses, page_size=PAGE_SIZE,
                  is_me=me is not None and me.account.identity == person.identity, notice=notice(request))


def _max_identity(request: Request) -> int | None:
    raw = request.query_params.get("max_id", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise UsageError("max_id must be an account id")
    return int(raw)


async def _people(request: Request, site: Site, which: str) -> Response:
    person = await person_named(site, request.path_params["handle"])
    lister = site.social.following.followers if which == "followers" else site.social.following.following
    found = await lister(person.identity, limit=PEOPLE_PAGE, max_id=_max_identity(request))
    shown = person_view(person, site.base_url)
    title = f"Followers of {shown.name}" if which == "followers" else f"Followed by {shown.name}"
    return render(request, "people.html", title=title, person=shown, people=[person_view(p, site.base_url) for p in found],
                  older=found[-1].identity if len(found) == PEOPLE_PAGE else None,
                  empty=f"No {which} to show yet." if which == "followers" else "Follows nobody yet.")


async def followers(request: Request, site: Site) -> Response:
    return await _people(request, site, "followers")


async def following(request: Request, site: Site) -> Response:
    return await _people(request, site, "following")


async def relate(request: Request, site: Site) -> Response:
    """``POST /@handle/{follow,unfollow,block,unblock,mute,unmute}``, then back to the page."""
    me, form = await acting(request, site)
    action = request.path_params["action"]
    if action not in RELATIONS:
        raise NotFound("no such action")
    person = await person_named(site, request.path_params["handle"])
    await site.social.following.relate(me.account, person.identity, action)
    return back(form, person_view(person, site.base_url).url)
