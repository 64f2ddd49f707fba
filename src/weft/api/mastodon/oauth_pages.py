"""``/oauth/authorize``: where a person lets an app use their account.

GET checks the request (a known app, one of its redirect URIs, scopes within the app's,
a PKCE challenge if any) and shows the login form if the person is not signed in to the
web app (or the app asked for ``force_login``), else the consent page. Both forms post
back here with the request in hidden fields, and it is checked again, since anything in
a form can be changed.

- The login form is protected by a double-submit token: a random value in a cookie
  (``weft_csrf``, the web app's) that must come back in the form. Logging in starts a web-app
  session (cookie ``weft_session``) and sends the browser back to the GET, which now
  shows the consent page.
- The consent form carries the session's own CSRF token. Authorize sends the browser
  to the redirect URI with ``code`` and ``state`` (or shows the code, out of band);
  Deny with ``error=access_denied``.

Problems with the app or its redirect URI are shown here and never redirected, since
the URI cannot be trusted; other problems go back to the app as OAuth errors.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from weft.api.mastodon.auth import site_of
from weft.api.mastodon.oauth_html import describe_scope, render_page
from weft.api.mastodon.oauth_server import OAuthError, OAuthServer
from weft.api.mastodon.oauth_tokens import client_address
from weft.api.mastodon.params import Params, ParamsError, read_params
from weft.api.mastodon.redirects import OOB, form_action_source, with_answer
from weft.api.mastodon.scopes import scope_text
from weft.errors import AuthError, Forbidden
from weft.ratelimit import RateLimited, limit
from weft.store.oauth import AppRow

if TYPE_CHECKING:
    from weft.accounts import Account

__all__ = ["CSRF_COOKIE", "ROUTES", "SESSION_COOKIE"]

# The web app's cookies (weft.web.visitors), so that signing in here signs in there too.
SESSION_COOKIE: Final = "weft_session"
SESSION_MAX_AGE_S: Final = 30 * 24 * 3600
CSRF_COOKIE: Final = "weft_csrf"


@dataclass(frozen=True)
class AuthorizationRequest:
    """An app's request for a person's authorization, checked."""

    app: AppRow
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: str | None
    challenge_method: str | None

    def hidden(self) -> list[tuple[str, str]]:
        """The request as form fields, so that a form can carry it to the next step."""
        fields = [("response_type", "code"), ("client_id", self.app.client_id),
                  ("redirect_uri", self.redirect_uri), ("scope", scope_text(self.scopes))]
        fields += [(name, value) for name, value in (("state", self.state), ("code_challenge", self.challenge),
                                                    ("code_challenge_method", self.challenge_method)) if value]
        return fields

    def url(self, **extra: str) -> str:
        return "/oauth/authorize?" + urlencode([*self.hidden(), *extra.items()])

    def answer(self, **values: str | None) -> Response:
        """Send the browser back to the app with ``values`` (and the state), 303 after a form."""
        return RedirectResponse(with_answer(self.redirect_uri, {**values, "state": self.state}), status_code=303)


def _notice(request: Request, heading: str, message: str, status: int) -> Response:
    site = site_of(request)
    return render_page("notice.html", {"site_title": site.title, "host": site.host, "heading": heading,
                                       "message": message, "problem": status >= 400}, status=status)


async def _checked_request(request: Request, params: Params) -> AuthorizationRequest | Response:
    """The request, or the page or redirect that says what is wrong with it."""
    server = OAuthServer(site_of(request))
    app = await server.app(params.text("client_id", limit=200))
    if app is None:
        return _notice(request, "Unknown app", "No app with this client_id is registered here.", 400)
    try:
        redirect_uri = server.redirect_uri_for(app, params.text("redirect_uri", limit=2000))
    except OAuthError as exc:
        return _notice(request, "Wrong redirect URI", str(exc), 400)
    checked = AuthorizationRequest(app, redirect_uri, (), params.text("state", limit=1000), None, None)
    try:
        if params.text("response_type", limit=50) != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        scopes = server.requested_scopes(app, params.text("scope", limit=2000))
        challenge = params.text("code_challenge", limit=200) or None
        method = params.text("code_challenge_method", limit=20) or None
        server.check_challenge(challenge, method)
    except OAuthError as exc:
        if redirect_uri == OOB:
            return _notice(request, "This authorization cannot go ahead", str(exc), 400)
        return checked.answer(error=exc.code, error_description=str(exc))
    return AuthorizationRequest(app, redirect_uri, scopes, checked.state, challenge,
                                "S256" if challenge else None)


async def _signed_in(request: Request) -> tuple[Account, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await site_of(request).accounts.session(token)
    except (AuthError, Forbidden):
        return None


def _secure(request: Request) -> bool:
    return site_of(request).base_url.startswith("https://")


def _login_page(request: Request, wanted: AuthorizationRequest, *, error: str | None = None,
                username: str = "", status: int = 200) -> Response:
    site = site_of(request)
    existing = request.cookies.get(CSRF_COOKIE, "")
    csrf = existing if 20 <= len(existing) <= 64 and existing.isascii() else secrets.token_urlsafe(24)
    response = render_page("login.html", {
        "site_title": site.title, "host": site.host, "app_name": wanted.app.name, "hidden": wanted.hidden(),
        "csrf": csrf, "error": error, "username": username}, status=status)
    response.set_cookie(CSRF_COOKIE, csrf, path="/", secure=_secure(request), httponly=True, samesite="lax")
    return response


def _consent_page(request: Request, wanted: AuthorizationRequest, account: Account, csrf: str) -> Response:
    site = site_of(request)
    target = form_action_source(wanted.redirect_uri)
    return render_page("consent.html", {
        "site_title": site.title, "host": site.host, "app_name": wanted.app.name,
        "app_website": wanted.app.website, "username": account.username,
        "scopes": [(scope, describe_scope(scope)) for scope in wanted.scopes],
        "oob": wanted.redirect_uri == OOB, "redirect_uri": wanted.redirect_uri,
        "switch_url": wanted.url(force_login="true"), "hidden": wanted.hidden(), "csrf": csrf,
    }, form_targets=() if target is None else (target,))


async def authorize_page(request: Request) -> Response:
    try:
        params = await read_params(request)
    except ParamsError as exc:
        return _notice(request, "This authorization cannot go ahead", str(exc), 400)
    wanted = await _checked_request(request, params)
    if isinstance(wanted, Response):
        return wanted
    session = await _signed_in(request)
    if session is None or params.flag("force_login"):
        return _login_page(request, wanted)
    return _consent_page(request, wanted, *session)


def _same(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))


async def authorize_form(request: Request) -> Response:
    try:
        params = await read_params(request)
    except ParamsError as exc:
        return _notice(request, "This authorization cannot go ahead", str(exc), 400)
    wanted = await _checked_request(request, params)
    if isinstance(wanted, Response):
        return wanted
    if params.text("action", limit=20) == "login":
        return await _log_in(request, params, wanted)
    session = await _signed_in(request)
    if session is None:
        return _login_page(request, wanted, error="Your session has ended; log in again.", status=401)
    account, csrf = session
    if not _same(params.text("csrf", limit=200), csrf):
        return _notice(request, "This form has expired", "Go back to the app and start again.", 403)
    if params.text("action", limit=20) != "authorize":
        if wanted.redirect_uri == OOB:
            return _notice(request, "Not authorized", f"{wanted.app.name} was not given access.", 200)
        return wanted.answer(error="access_denied", error_description="The person denied the request.")
    code = await OAuthServer(site_of(request)).grant_code(wanted.app, account, wanted.redirect_uri, wanted.scopes,
                                                          wanted.challenge, wanted.challenge_method)
    if wanted.redirect_uri == OOB:
        site = site_of(request)
        return render_page("code.html", {"site_title": site.title, "host": site.host, "app_name": wanted.app.name,
                                         "code": code})
    return wanted.answer(code=code)


async def _log_in(request: Request, params: Params, wanted: AuthorizationRequest) -> Response:
    site = site_of(request)
    username = params.text("username", limit=320) or ""
    if not _same(params.text("csrf", limit=200), request.cookies.get(CSRF_COOKIE)):
        return _login_page(request, wanted, error="The form expired; please try again.", username=username,
                           status=403)
    try:
        limit(site.limits.login, client_address(request))
        account = await site.accounts.login(username, params.text("password", limit=1000) or "")
    except RateLimited as exc:
        response = _login_page(request, wanted, error=str(exc).capitalize() + ".", username=username, status=429)
        response.headers["retry-after"] = str(exc.retry_after_seconds)
        return response
    except (AuthError, Forbidden) as exc:
        return _login_page(request, wanted, error=str(exc).capitalize() + ".", username=username,
                           status=401 if isinstance(exc, AuthError) else 403)
    token, _ = await site.accounts.start_session(account, request.headers.get("user-agent"))
    response = RedirectResponse(wanted.url(), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, path="/", secure=_secure(request),
                        httponly=True, samesite="lax")
    return response


ROUTES: Final = [
    Route("/oauth/authorize", authorize_page, methods=["GET"]),
    Route("/oauth/authorize", authorize_form, methods=["POST"]),
]
