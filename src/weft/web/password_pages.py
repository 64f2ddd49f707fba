"""A forgotten password: ask for a link by mail, then choose a new password with it.

The answer to "forgot password" is the same whether or not the account exists, and the
mail is sent after the answer (a background task), so neither the words nor the time
taken tell a stranger which names and addresses have accounts here.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from weft.accounts import Account
from weft.errors import AuthError, UsageError, WeftError
from weft.mail import compose
from weft.ratelimit import limit
from weft.site import Site
from weft.web.pages import field, read_form, see_other
from weft.web.rendering import render, status_for
from weft.web.visitors import check_form_token, client_key, form_token, keep_form_token

__all__ = ["forgot", "forgot_form", "reset", "reset_form"]

log = logging.getLogger("weft.web")

RESET_PATH = "/auth/password/reset"


def reset_mail_body(site: Site, account: Account, link: str) -> str:
    return (f"Hello {account.username},\n\n"
            f"someone (we hope you) asked to choose a new password for @{account.username} on "
            f"{site.host}. To do so, open this link within an hour:\n\n{link}\n\n"
            "If it was not you, ignore this mail: your password stays as it is.\n\n"
            f"-- {site.title} at {site.host}\n")


async def send_reset_mail(site: Site, account: Account, token: str) -> None:
    """Mail the reset link; failures are logged for the operator (the person was already
    told a link is on its way, and must not learn more than that)."""
    if account.email is None:
        return
    link = f"{site.base_url}{RESET_PATH}?{urlencode({'token': token})}"
    try:
        message = compose(site.mail_from, account.email, f"Choose a new password on {site.host}",
                          reset_mail_body(site, account, link))
        await site.outbox.send(message)
    except WeftError as exc:
        log.error("the password-reset mail of @%s was not sent: %s", account.username, exc)


def _forgot_page(request: Request, site: Site, token: str, *, name: str = "",
                 error: str | None = None, status: int = 200) -> Response:
    response = render(request, "forgot.html", title="Forgot your password?", status=status,
                      csrf=token, name=name, error=error)
    keep_form_token(response, site, token)
    return response


async def forgot_form(request: Request, site: Site) -> Response:
    return _forgot_page(request, site, form_token(request))


async def forgot(request: Request, site: Site) -> Response:
    form = await read_form(request)
    token = check_form_token(request, form)
    limit(site.limits.reset, client_key(request))
    try:
        name = field(form, "name", limit=320).strip()
        if not name:
            raise UsageError("write your username or your email address")
    except UsageError as exc:
        return _forgot_page(request, site, token, error=str(exc), status=status_for(exc))
    found = await site.accounts.start_reset(name)
    response = render(request, "forgot_sent.html", title="Check your mail")
    if found is not None:
        response.background = BackgroundTask(send_reset_mail, site, *found)
    return response


def _reset_page(request: Request, site: Site, token: str, reset_token: str, *,
                error: str | None = None, status: int = 200) -> Response:
    response = render(request, "reset.html", title="Choose a new password", status=status,
                      csrf=token, reset_token=reset_token, error=error)
    keep_form_token(response, site, token)
    return response


def _invalid_link_page(request: Request) -> Response:
    return render(request, "reset_invalid.html", title="This link does not work", status=401)


async def reset_form(request: Request, site: Site) -> Response:
    reset_token = request.query_params.get("token", "")
    if not reset_token or not await site.accounts.reset_token_valid(reset_token):
        return _invalid_link_page(request)
    return _reset_page(request, site, form_token(request), reset_token)


async def reset(request: Request, site: Site) -> Response:
    form = await read_form(request)
    token = check_form_token(request, form)
    reset_token = field(form, "token", limit=200)
    try:
        password = field(form, "password")
        if password != field(form, "password_again"):
            raise UsageError("the two passwords are not the same")
        await site.accounts.finish_reset(reset_token, password)
    except AuthError:
        return _invalid_link_page(request)
    except UsageError as exc:
        return _reset_page(request, site, token, reset_token, error=str(exc), status=status_for(exc))
    return see_other("/auth/sign_in?notice=password_reset")
