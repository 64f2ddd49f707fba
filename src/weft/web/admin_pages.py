"""The administrators' page: who may sign up, the sign-ups waiting for approval, and how
federation's queues stand."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import Forbidden, NotFound
from weft.site import Site
from weft.web.pages import field, notice, read_form, see_other
from weft.web.rendering import render
from weft.web.visitors import Visitor, check_csrf, signed_in

__all__ = ["admin", "administrator", "approve", "set_registrations"]

MODES = (("open", "Open: anyone can sign up"),
         ("approval", "By approval: sign-ups wait until an administrator approves them"),
         ("closed", "Closed: nobody can sign up (administrators can still create accounts)"))


async def administrator(request: Request, site: Site) -> Visitor:
    me = await signed_in(request, site)
    if not me.account.is_admin:
        raise Forbidden("this page is for the server's administrators")
    return me


async def admin(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    queues = await site.federation.queues() if site.federation is not None else None
    return render(request, "admin.html", title="Administration", me=me, modes=MODES,
                  mode=await site.accounts.registration_mode(), pending=await site.accounts.pending(),
                  queues=queues, notice=notice(request))


async def set_registrations(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    await site.accounts.set_registration_mode(field(form, "mode", limit=20))
    return see_other("/admin?notice=registrations_changed")


async def approve(request: Request, site: Site) -> Response:
    me = await administrator(request, site)
    check_csrf(await read_form(request), me.csrf)
    account = await site.accounts.get(request.path_params["account_id"])
    if account.state != "pending":
        raise NotFound(f"@{account.username} is not waiting for approval")
    await site.accounts.approve(account)
    return see_other("/admin?notice=approved")
