"""Reports to this server's moderators: ``POST /api/v1/reports`` (weft.social.moderation).

As on Mastodon: ``account_id`` names whom, ``status_ids`` some of their posts (each must be
theirs and visible to the reporter), ``comment``, ``category`` (spam, legal, violation,
other) and ``forward`` (send a copy to a remote person's server, from the server itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request

from weft.api.mastodon.auth import authorize, endpoint, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.entities import account_entity, iso_time
from weft.api.mastodon.params import read_params
from weft.api.responses import JSONResponse
from weft.errors import NotFound, UsageError

if TYPE_CHECKING:
    from weft.site import Site
    from weft.store.moderation import Report

__all__ = ["ROUTES"]

MAX_STATUSES: Final = 20


async def report_entity(site: Site, report: Report, status_ids: list[str]) -> dict[str, Any]:
    target = await site.social.following.person(report.target)
    return {"id": str(report.id), "action_taken": report.resolved_at is not None,
            "action_taken_at": iso_time(report.resolved_at) if report.resolved_at else None,
            "category": report.category, "comment": report.comment, "forwarded": report.forward,
            "created_at": iso_time(report.created_at), "status_ids": status_ids, "rule_ids": [],
            "target_account": account_entity(target, site.base_url)}


@endpoint
async def create(request: Request) -> JSONResponse:
    account = person_of(await authorize(request, "write:reports"))
    params = await read_params(request)
    site = site_of(request)
    target_text = params.text("account_id", limit=20) or ""
    if not target_text.isdigit():
        raise UsageError("account_id is required")
    target = int(target_text)
    await site.social.following.person(target)            # NotFound for an unknown account
    wanted = params.strings("status_ids") or []
    if len(wanted) > MAX_STATUSES:
        raise UsageError(f"at most {MAX_STATUSES} statuses in one report")
    entries: list[str] = []
    for text in dict.fromkeys(wanted):
        if not text.isdigit() or len(text) > 20:
            raise NotFound(f"no status {text[:40]!r}")
        status = await site.social.statuses.status(account, int(text))   # NotFound unless visible
        if status.boost is not None or status.row.author != target:
            raise UsageError(f"status {text} is not by the reported account")
        entries.append(status.row.entry_id)
    report_id = await site.social.moderation.report(
        account, target, entries=entries, comment=params.text("comment", limit=1000) or "",
        category=params.text("category", limit=20) or "other", forward=bool(params.flag("forward")))
    report = await site.social.moderation.get_report(report_id)
    return JSONResponse(await report_entity(site, report, list(dict.fromkeys(wanted))))


ROUTES: Final = [api_route("/api/v1/reports", create, ["POST"])]
