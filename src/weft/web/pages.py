"""What every page handler shares: the wrapper that turns errors into pages, redirects,
the notices shown after a redirect, and reading form fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from weft.errors import UsageError, WeftError
from weft.site import Site
from weft.web.rendering import render_error
from weft.web.visitors import SignInNeeded, Visitor, check_csrf, visitor

__all__ = ["Handler", "acting", "back", "field", "local_path", "notice", "page", "read_form", "see_other"]

Handler = Callable[[Request, Site], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

# Notices are named in the redirect's query string and their text is ours, so a link
# someone crafts can choose among these sentences but cannot put words on our pages.
NOTICES: Final = {
    "signed_out": "You are signed out.",
    "password_reset": "Your password is changed. Sign in with the new one.",
    "profile_saved": "Your profile is saved.",
    "password_changed": "Your password is changed. Your other sessions have ended.",
    "email_changed": "Your email address is saved.",
    "recovery_key_forgotten": "This server no longer holds your recovery key.",
    "registrations_changed": "Registrations are changed.",
    "approved": "The account is approved; its owner can sign in now.",
    "posted": "Your post is published.",
    "edited": "Your post is changed.",
    "deleted": "The post is deleted.",
    "domain_blocked": "The domain block is saved.",
    "domain_suspended": "The domain is suspended; what this server held of it is removed.",
    "domain_unblocked": "The domain is no longer blocked.",
    "report_resolved": "The report is marked resolved.",
    "report_reopened": "The report is open again.",
    "reported": "Your report is sent to this server's moderators.",
    "alias_added": "The alias is saved: that account may now move here.",
    "alias_removed": "The alias is removed.",
    "moved": "Your account has moved. Your followers here follow your new account; those elsewhere are told.",
}

_FIELD_MAX: Final = 10_000


def page(handler: Handler, site: Site) -> Endpoint:
    """A Starlette endpoint running ``handler`` for ``site``: a page for signed-in people
    asked for while signed out redirects to the sign-in form, and any other weft error
    becomes a page saying what went wrong (its status from ``rendering.status_for``)."""
    async def endpoint(request: Request) -> Response:
        request.state.site = site
        try:
            return await handler(request, site)
        except SignInNeeded as exc:
            return see_other(f"/auth/sign_in?next={quote(exc.next_path, safe='/')}")
        except WeftError as exc:
            return render_error(request, exc)

    endpoint.__name__ = handler.__name__
    return endpoint


def see_other(url: str) -> RedirectResponse:
    """Where to go after a form succeeds (303: the browser follows with a GET)."""
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})


def notice(request: Request) -> str | None:
    """The notice named by ``?notice=``, if it is one of ours."""
    return NOTICES.get(request.query_params.get("notice", ""))


def local_path(value: str | None, default: str = "/settings") -> str:
    """``value`` if it is a path on this site, else ``default``: where to go after signing
    in must not be a link that sends people to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in value):
        return default
    return value


async def read_form(request: Request) -> FormData:
    """The fields of a posted form (no file uploads on these pages)."""
    return await request.form(max_files=0, max_fields=64, max_part_size=64 * 1024)


def field(form: FormData, name: str, *, limit: int = _FIELD_MAX, label: str | None = None) -> str:
    """A text field of ``form`` ("" when absent); longer than ``limit`` is a UsageError."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise UsageError(f"{label or name.replace('_', ' ')} is longer than {limit} characters")
    return value


async def acting(request: Request, site: Site) -> tuple[Visitor, FormData]:
    """The signed-in person sending a form of a page, and the form, its CSRF token checked.

    Signed out (the session ended since the page was shown), they are sent to sign in
    and then back to that page, not to this POST-only address.
    """
    form = await read_form(request)
    me = await visitor(request, site)
    if me is None:
        raise SignInNeeded(local_path(field(form, "next", limit=2000), "/"))
    check_csrf(form, me.csrf)
    return me, form


def back(form: FormData, default: str = "/", *, notice: str | None = None,
         anchor: str | None = None) -> RedirectResponse:
    """Back to the page a form was sent from (its ``next``, if on this site), with a notice
    of ours and a place on the page."""
    target = local_path(field(form, "next", limit=2000), default).split("#", 1)[0]
    if notice is not None:
        target += ("&" if "?" in target else "?") + f"notice={notice}"
    if anchor is not None:
        target += f"#{anchor}"
    return see_other(target)
