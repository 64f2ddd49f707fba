"""Who is asking: the session cookie, the CSRF tokens of forms, and the client's address.

A signed-in person carries ``weft_session``, the token ``Accounts.start_session`` gave;
their forms carry the CSRF token stored with that session. Forms used before signing in
(sign in, sign up, forgot password, reset) use a double-submit token instead: a random
``weft_csrf`` cookie repeated in a hidden field. Another site can make a browser post a
form here, but can neither read nor set our cookies, so it cannot make the two agree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from weft.accounts import Account
from weft.errors import AuthError, Forbidden
from weft.site import Site

__all__ = ["FORM_COOKIE", "SESSION_COOKIE", "CsrfRejected", "SignInNeeded", "Visitor",
           "check_csrf", "check_form_token", "client_key", "end_session_cookie", "form_token",
           "keep_form_token", "signed_in", "start_session_cookie", "user_agent", "visitor"]

SESSION_COOKIE: Final = "weft_session"
FORM_COOKIE: Final = "weft_csrf"
SESSION_MAX_AGE_S: Final = 30 * 24 * 3600
_USER_AGENT_MAX: Final = 300


class CsrfRejected(Forbidden):
    """A form whose CSRF token is missing or not this visitor's: it may come from another site."""

    def __init__(self) -> None:
        super().__init__("this form is out of date or was not sent from this site; "
                         "reload the page and try again")


class SignInNeeded(AuthError):
    """A page for signed-in people, asked for without a live session; ``next`` is where
    to come back to after signing in."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see this page")
        self.next_path = next_path


@dataclass(frozen=True)
class Visitor:
    """A signed-in person: their account, their session's CSRF token and session token."""

    account: Account
    csrf: str
    token: str


async def visitor(request: Request, site: Site) -> Visitor | None:
    """The signed-in person making ``request``, or None (no cookie, or a session that ended).

    Looked up once per request; templates read it from ``request.state.visitor``.
    """
    if hasattr(request.state, "visitor"):
        found: Visitor | None = request.state.visitor
        return found
    found = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            account, csrf = await site.accounts.session(token)
        except (AuthError, Forbidden):
            pass  # ended, expired, or the account is disabled: treat as signed out
        else:
            found = Visitor(account, csrf, token)
    request.state.visitor = found
    return found


async def signed_in(request: Request, site: Site) -> Visitor:
    """The signed-in person, or :class:`SignInNeeded` (pages answer it with a redirect)."""
    found = await visitor(request, site)
    if found is None:
        raise SignInNeeded(request.url.path)
    return found


def user_agent(request: Request) -> str | None:
    """The browser's own description, kept with a session so people can tell theirs apart."""
    return (request.headers.get("user-agent") or "")[:_USER_AGENT_MAX] or None


def _secure(site: Site) -> bool:
    return site.base_url.startswith("https://")


def start_session_cookie(response: Response, site: Site, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, path="/",
                        secure=_secure(site), httponly=True, samesite="lax")


def end_session_cookie(response: Response, site: Site) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(site), httponly=True,
                           samesite="lax")


def form_token(request: Request) -> str:
    """The double-submit token of a signed-out form: the visitor's, or a new one."""
    existing = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(existing) <= 64 and existing.isascii():
        return existing
    return secrets.token_urlsafe(24)


def keep_form_token(response: Response, site: Site, token: str) -> None:
    """Send the double-submit cookie with a page holding a signed-out form."""
    response.set_cookie(FORM_COOKIE, token, path="/", secure=_secure(site), httponly=True,
                        samesite="lax")


def check_csrf(form: FormData, expected: str | None) -> None:
    """Raise :class:`CsrfRejected` unless the form's ``csrf`` field is ``expected``."""
    given = form.get("csrf")
    if (not expected or not isinstance(given, str)
            or not secrets.compare_digest(given.encode(), expected.encode())):
        raise CsrfRejected()


def check_form_token(request: Request, form: FormData) -> str:
    """Check a signed-out form's double-submit token; return it for the page that answers."""
    token = request.cookies.get(FORM_COOKIE, "")
    check_csrf(form, token)  # refuses an empty token
    return token


def client_key(request: Request) -> str:
    """What rate limits on strangers key on: the client's address (uvicorn puts the one
    from X-Forwarded-For there when a trusted proxy sends it)."""
    return request.client.host if request.client is not None else "unknown"
