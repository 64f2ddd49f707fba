"""Signing up, signing in and out, and the welcome page that offers the recovery key."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from weft.accounts import RegistrationMode
from weft.errors import AuthError, Forbidden, UsageError
from weft.ratelimit import limit
from weft.site import Site
from weft.web.pages import field, local_path, notice, read_form, see_other
from weft.web.rendering import render, status_for
from weft.web.visitors import (
    check_csrf,
    check_form_token,
    client_key,
    end_session_cookie,
    form_token,
    keep_form_token,
    signed_in,
    start_session_cookie,
    user_agent,
    visitor,
)

__all__ = ["sign_in", "sign_in_form", "sign_out", "sign_up", "sign_up_form", "welcome"]

_SIGN_UP_FIELDS = ("username", "display_name", "email", "reason")


def _sign_up_page(request: Request, site: Site, mode: RegistrationMode, token: str, *,
                  values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
    if mode == "closed":
        response = render(request, "sign_up_closed.html", title="Sign-ups are closed",
                          status=403 if request.method == "POST" else 200)
    else:
        response = render(request, "sign_up.html", title="Sign up", status=status, csrf=token,
                          mode=mode, values=values, error=error)
    keep_form_token(response, site, token)
    return response


async def sign_up_form(request: Request, site: Site) -> Response:
    if await visitor(request, site) is not None:
        return see_other("/settings")
    mode = await site.accounts.registration_mode()
    return _sign_up_page(request, site, mode, form_token(request),
                         values=dict.fromkeys(_SIGN_UP_FIELDS, ""))


async def sign_up(request: Request, site: Site) -> Response:
    form = await read_form(request)
    token = check_form_token(request, form)
    mode = await site.accounts.registration_mode()
    values = {name: field(form, name, limit=2000) for name in _SIGN_UP_FIELDS}
    if mode == "closed":
        return _sign_up_page(request, site, mode, token, values=values)
    limit(site.limits.sign_up, client_key(request))
    try:
        password = field(form, "password")
        if password != field(form, "password_again"):
            raise UsageError("the two passwords are not the same")
        account = await site.accounts.sign_up(
            values["username"], password, email=values["email"] or None,
            reason=values["reason"] if mode == "approval" else None,
            display_name=values["display_name"].strip() or None)
    except (UsageError, Forbidden) as exc:
        return _sign_up_page(request, site, mode, token, values=values, error=str(exc),
                             status=status_for(exc))
    if account.state == "pending":
        return render(request, "sign_up_pending.html", title="Thank you for signing up",
                      username=account.username)
    session_token, _ = await site.accounts.start_session(account, user_agent(request))
    response = see_other("/auth/welcome")
    start_session_cookie(response, site, session_token)
    return response


async def welcome(request: Request, site: Site) -> Response:
    """Right after signing up: the recovery key, offered once more prominently than in settings."""
    me = await signed_in(request, site)
    return render(request, "welcome.html", title="Welcome: keep your recovery key", me=me)


def _sign_in_page(request: Request, site: Site, token: str, *, values: dict[str, Any],
                  error: str | None = None, status: int = 200) -> Response:
    response = render(request, "sign_in.html", title="Sign in", status=status, csrf=token,
                      values=values, error=error, notice=notice(request))
    keep_form_token(response, site, token)
    return response


async def sign_in_form(request: Request, site: Site) -> Response:
    next_path = local_path(request.query_params.get("next"))
    if await visitor(request, site) is not None:
        return see_other(next_path)
    return _sign_in_page(request, site, form_token(request), values={"name": "", "next": next_path})


async def sign_in(request: Request, site: Site) -> Response:
    form = await read_form(request)
    token = check_form_token(request, form)
    limit(site.limits.login, client_key(request))
    values = {"name": field(form, "name", limit=320).strip(), "next": local_path(field(form, "next"))}
    try:
        account = await site.accounts.login(values["name"], field(form, "password"))
    except (UsageError, AuthError, Forbidden) as exc:
        return _sign_in_page(request, site, token, values=values, error=str(exc), status=status_for(exc))
    session_token, _ = await site.accounts.start_session(account, user_agent(request))
    response = see_other(values["next"])
    start_session_cookie(response, site, session_token)
    return response


async def sign_out(request: Request, site: Site) -> Response:
    me = await visitor(request, site)
    response = see_other("/auth/sign_in?notice=signed_out")
    if me is not None:
        check_csrf(await read_form(request), me.csrf)
        await site.accounts.end_session(me.token)
    end_session_cookie(response, site)
    return response
