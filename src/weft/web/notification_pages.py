"""Notifications, newest first, with follow requests answered from the page.

Notifications of one kind about one post in a row are shown as one ("Ann and Bob liked
your post"). Seeing the first page moves the ``notifications`` read marker (the one
Mastodon apps share) to the newest; the ones newer than the old marker are marked new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import NotFound, UsageError
from weft.site import Site
from weft.social import Notification
from weft.web.display import PersonView, StatusView, person_view, status_view
from weft.web.pages import acting, back, notice
from weft.web.rendering import render
from weft.web.visitors import signed_in

__all__ = ["answer", "follow_requests", "group", "notifications"]

PAGE_SIZE: Final = 40
REQUESTS_PAGE: Final = 80
VERBS: Final = {"mention": "mentioned you", "reply": "replied to your post", "favourite": "liked your post",
                "reblog": "boosted your post", "follow": "followed you", "follow_request": "asks to follow you"}


@dataclass
class NoticeGroup:
    """Notifications of one kind about one post (or one follow request), shown as one."""

    id: int                          # the newest's
    kind: str
    ts: int
    actors: list[PersonView]
    status: StatusView | None
    new: bool
    key: tuple[str, int | None] | None

    @property
    def verb(self) -> str:
        return VERBS.get(self.kind, self.kind)


def _group_key(item: Notification) -> tuple[str, int | None] | None:
    """Likes or boosts of one post, and follows, group together; mentions and replies do not
    (each is a post to read), nor do follow requests (each has its own answer)."""
    if item.kind in ("favourite", "reblog") and item.status is not None:
        return item.kind, item.status.row.row
    if item.kind == "follow":
        return item.kind, None
    return None


def group(found: list[Notification], viewer_identity: int, base_url: str, last_read: int) -> list[NoticeGroup]:
    """``found`` (newest first) with runs of one group key shown as one."""
    groups: list[NoticeGroup] = []
    for item in found:
        key = _group_key(item)
        if key is not None and groups and groups[-1].key == key:
            actors = groups[-1].actors
            if all(actor.identity != item.actor.identity for actor in actors):
                actors.append(person_view(item.actor, base_url))
            continue
        groups.append(NoticeGroup(
            id=item.id, kind=item.kind, ts=item.ts, actors=[person_view(item.actor, base_url)],
            status=status_view(item.status, viewer_identity, base_url) if item.status is not None else None,
            new=item.id > last_read, key=key))
    return groups


def _max_id(request: Request) -> int | None:
    raw = request.query_params.get("max_id", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise UsageError("max_id must be a notification id")
    return int(raw)


async def notifications(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    notices = site.social.notices
    before = _max_id(request)
    found = await notices.page(me.account, limit=PAGE_SIZE, max_id=before)
    markers = await notices.markers(me.account, ["notifications"])
    last_read = int(markers[0].last_read_id) if markers and markers[0].last_read_id.isdigit() else 0
    if before is None and found and found[0].id > last_read:
        await notices.set_markers(me.account, {"notifications": str(found[0].id)})
    waiting = {p.identity for p in await site.social.following.follow_requests(me.account, limit=REQUESTS_PAGE)}
    return render(request, "notifications.html", title="Notifications", me=me,
                  groups=group(found, me.account.identity, site.base_url, last_read), waiting=waiting,
                  older=found[-1].id if len(found) == PAGE_SIZE else None, notice=notice(request))


async def follow_requests(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    found = await site.social.following.follow_requests(me.account, limit=REQUESTS_PAGE)
    return render(request, "follow_requests.html", title="Follow requests", me=me,
                  people=[person_view(p, site.base_url) for p in found], notice=notice(request))


async def answer(request: Request, site: Site) -> Response:
    """``POST /follow_requests/{identity}/{accept,reject}``, then back to the page."""
    me, form = await acting(request, site)
    verdict = request.path_params["verdict"]
    if verdict not in ("accept", "reject"):
        raise NotFound("no such answer")
    identity = request.path_params["identity"]
    if identity >= 2**63:
        raise NotFound("no follow request from this account")
    await site.social.following.answer(me.account, identity, accept=verdict == "accept")
    return back(form, "/follow_requests")
