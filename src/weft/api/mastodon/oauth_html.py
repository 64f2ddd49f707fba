"""The pages of the OAuth authorization flow: templates, their CSP, and what scopes mean.

Like the node's own page, no scripts and no outside resources: one inline stylesheet,
named in the Content-Security-Policy by its hash. ``form-action`` allows this server and,
on the consent page, where the answer goes: browsers hold a form's redirect to the same
rule, so without it the person's "Authorize" would be blocked on its way back to the app.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

__all__ = ["describe_scope", "render_page"]

_GROUPS: Final = {
    "read": "read all your account's data",
    "write": "change all your account's data",
    "follow": "follow, mute and block accounts",
    "push": "receive your push notifications",
    "profile": "see who you are (your profile only)",
    "admin:read": "read all data on the server (administration)",
    "admin:write": "change all data on the server (administration)",
}
_NOUNS: Final = {"accounts": "account information", "statuses": "posts", "follows": "follows",
                 "favourites": "favourites", "notifications": "notifications", "media": "media uploads",
                 "conversations": "conversations", "reports": "reports"}


def describe_scope(scope: str) -> str:
    """What a scope lets an app do, in words for the consent page."""
    if scope in _GROUPS:
        return _GROUPS[scope]
    group, _, noun = scope.rpartition(":")
    thing = _NOUNS.get(noun, noun.replace("_", " "))
    if group == "read":
        return f"read your {thing}"
    if group == "write":
        return f"change your {thing}"
    verb = "read" if group == "admin:read" else "change"
    return f"{verb} the server's {thing} (administration)"


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("weft.api", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@cache
def _stylesheet() -> tuple[str, str]:
    css = _environment().get_template("oauth/style.css.html").render()
    return css, base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def render_page(template: str, context: dict[str, Any], *, status: int = 200,
                form_targets: tuple[str, ...] = ()) -> HTMLResponse:
    """A page of the flow, never cached, with a CSP that lets its forms post here (and
    redirect to ``form_targets``)."""
    css, digest = _stylesheet()
    html = _environment().get_template(f"oauth/{template}").render(stylesheet=Markup(css), **context)
    form_action = " ".join(("'self'", *form_targets))
    policy = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; "
              f"form-action {form_action}; base-uri 'none'; frame-ancestors 'none'")
    return HTMLResponse(html, status_code=status, headers={
        "content-security-policy": policy, "cache-control": "no-store"})
