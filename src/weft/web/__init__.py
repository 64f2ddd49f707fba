"""The web app of hosted accounts: server-rendered pages that work without JavaScript.

Signing up and in, a forgotten password, settings (profile, email, password, recovery key,
devices, archive) and the administrators' page. ``weft serve`` mounts :func:`routes`
beside the JSON API; the pages reach the node only through the ``Site`` they are given
(its account service and node), never through weft.api.

A request goes route (``weft.web.*_pages``: read the form, check CSRF and rate limits,
render) → service (``weft.accounts``, ``weft.node``) → store.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from weft.site import Site
from weft.web import admin_pages, auth_pages, downloads, feeds, password_pages, settings_pages
from weft.web.pages import Handler, page

__all__ = ["routes"]


def routes(site: Site) -> list[BaseRoute]:
    """The routes of the web app of ``site``, for ``create_app(..., extra_routes=...)``."""
    def get(path: str, handler: Handler) -> Route:
        return Route(path, page(handler, site), methods=["GET"])

    def post(path: str, handler: Handler) -> Route:
        return Route(path, page(handler, site), methods=["POST"])

    return [
        get("/@{username}.rss", feeds.rss),
        get("/@{username}.atom", feeds.atom),
        get("/users/{username}.rss", feeds.rss),
        get("/auth/sign_up", auth_pages.sign_up_form),
        post("/auth/sign_up", auth_pages.sign_up),
        get("/auth/welcome", auth_pages.welcome),
        get("/auth/sign_in", auth_pages.sign_in_form),
        post("/auth/sign_in", auth_pages.sign_in),
        post("/auth/sign_out", auth_pages.sign_out),
        get("/auth/password/forgot", password_pages.forgot_form),
        post("/auth/password/forgot", password_pages.forgot),
        get("/auth/password/reset", password_pages.reset_form),
        post("/auth/password/reset", password_pages.reset),
        get("/settings", settings_pages.settings),
        post("/settings/profile", settings_pages.save_profile),
        post("/settings/password", settings_pages.change_password),
        post("/settings/email", settings_pages.change_email),
        get("/settings/recovery-key", downloads.recovery_key),
        post("/settings/recovery-key/forget", downloads.forget_recovery_key),
        get("/settings/archive", downloads.archive),
        get("/admin", admin_pages.admin),
        post("/admin/registrations", admin_pages.set_registrations),
        post("/admin/accounts/{account_id:int}/approve", admin_pages.approve),
        Mount("/static", app=StaticFiles(packages=[("weft.web", "static")]), name="static"),
    ]
