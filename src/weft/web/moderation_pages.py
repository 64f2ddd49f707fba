"""The administrators' moderation pages: domain blocks (with Mastodon's CSV import and
export) and the reports people here and other servers made (weft.social.moderation)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from weft.errors import UsageError
from weft.site import Site
from weft.social.moderation import SEVERITIES
from weft.social.names import handle_of
from weft.web.admin_pages import administrator
from weft.web.pages import field, notice, read_form, see_other
from weft.web.rendering import render
from weft.web.visitors import Visitor, check_csrf

__all__ = ["block_domain", "domains", "export_domains", "import_domains", "reports", "resolve_report",
           "unblock_domain"]

MAX_IMPORT_BYTES = 2 * 1024 * 1024
SEVERITY_LABELS = {"suspend": "Suspend: refuse everything from it and remove what is held",
                   "silence": "Silence: keep its posts out of the public timelines",
                   "noop": "None: only the options below"}


async def domains(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    return await _domains_page(request, site, me, notice(request), [])


async def _domains_page(request: Request, site: Site, me: Visitor, said: str | None,
                        problems: list[str]) -> Response:
    return render(request, "admin_domains.html", title="Domain blocks", me=me,
                  blocks=await site.social.moderation.domain_blocks(),
                  severities=[(value, SEVERITY_LABELS[value]) for value in SEVERITIES],
                  notice=said, problems=problems)


async def block_domain(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    _, purged = await site.social.moderation.block_domain(
        field(form, "domain", limit=300), field(form, "severity", limit=20) or "suspend",
        reject_media=form.get("reject_media") == "on", reject_reports=form.get("reject_reports") == "on",
        public_comment=field(form, "public_comment", limit=1000),
        private_comment=field(form, "private_comment", limit=1000), obfuscate=form.get("obfuscate") == "on")
    return see_other("/admin/domains?notice=" + ("domain_suspended" if purged else "domain_blocked"))


async def unblock_domain(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    await site.social.moderation.unblock_domain(field(form, "domain", limit=300))
    return see_other("/admin/domains?notice=domain_unblocked")


async def export_domains(request: Request, site: Site) -> Response:
    await administrator(request, site)
    moderation = site.social.moderation
    body = moderation.export_csv(await moderation.domain_blocks())
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="domain_blocks.csv"', "cache-control": "no-store"})


async def import_domains(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=MAX_IMPORT_BYTES)
    except HTTPException as exc:   # Starlette's answer to a malformed or oversized body
        raise UsageError(f"the blocklist could not be read: {exc.detail}") from None
    try:
        check_csrf(form, me.csrf)
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(MAX_IMPORT_BYTES + 1)
            if len(raw) > MAX_IMPORT_BYTES:
                raise UsageError("the blocklist is larger than 2 MiB")
            text = raw.decode("utf-8-sig", errors="replace")
        else:
            text = field(form, "csv", limit=MAX_IMPORT_BYTES, label="the blocklist")
    finally:
        await form.close()   # the upload's spooled file
    if not text.strip():
        raise UsageError("choose a CSV file, or paste the blocklist")
    made, problems = await site.social.moderation.import_csv(text)
    # Shown on this answer, not carried by a redirect: a link must not put words on our pages.
    return await _domains_page(request, site, me, f"{made} domain block(s) imported.", problems[:50])


async def reports(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    moderation = site.social.moderation
    shown = request.query_params.get("show") == "resolved"
    found = await moderation.reports(resolved=shown)
    people = await moderation.people_of(found)
    return render(request, "admin_reports.html", title="Reports", me=me, reports=found, resolved=shown,
                  names={identity: handle_of(person) for identity, person in people.items()},
                  notice=notice(request))


async def resolve_report(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    reopen = form.get("reopen") == "1"
    await site.social.moderation.resolve(request.path_params["report_id"], me.account, reopen=reopen)
    return see_other("/admin/reports?notice=" + ("report_reopened" if reopen else "report_resolved"))
