"""The web app of hosted accounts: server-rendered pages that work without JavaScript.

Timelines (home with the compose form, local, public, tags), threads, profiles,
notifications and search; signing up and in, a forgotten password, settings (profile,
email, password, aliases and moving, recovery key, devices, archive) and the administrators' page; media
files and feeds. ``weft serve`` mounts :func:`routes` beside the JSON API; the pages
reach the node only through the ``Site`` they are given (its social and account
services, its node), never through weft.api.

A request goes route (``weft.web.*_pages``: read the form, check CSRF and rate limits,
render) → service (``weft.social``, ``weft.accounts``, ``weft.node``) → store.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from weft.site import Site
from weft.social.names import HANDLE_PATTERN
from weft.web import (
    admin_pages,
    arrival_pages,
    auth_pages,
    compose,
    downloads,
    feeds,
    media_files,
    moderation_pages,
    moving_pages,
    notification_pages,
    password_pages,
    profile_pages,
    report_pages,
    search_pages,
    settings_pages,
    status_pages,
    timeline_pages,
)
from weft.web.pages import Handler, page

__all__ = ["routes"]


class HandleConvertor(Convertor[str]):
    """``{handle:handle}`` in a path: a username or a short DID, never with a dot, so that
    ``/@alice.rss`` is left to the feeds."""

    regex = HANDLE_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("handle", HandleConvertor())


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
        get("/auth/arrive", arrival_pages.arrival_form),
        post("/auth/arrive", arrival_pages.arrive),
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
        post("/settings/aliases", moving_pages.add_alias),
        post("/settings/aliases/remove", moving_pages.remove_alias),
        post("/settings/move", moving_pages.move_account),
        get("/settings/recovery-key", downloads.recovery_key),
        post("/settings/recovery-key/forget", downloads.forget_recovery_key),
        get("/settings/archive", downloads.archive),
        get("/admin", admin_pages.admin),
        post("/admin/registrations", admin_pages.set_registrations),
        post("/admin/accounts/{account_id:int}/approve", admin_pages.approve),
        get("/admin/domains", moderation_pages.domains),
        post("/admin/domains", moderation_pages.block_domain),
        post("/admin/domains/unblock", moderation_pages.unblock_domain),
        get("/admin/domains/export.csv", moderation_pages.export_domains),
        post("/admin/domains/import", moderation_pages.import_domains),
        get("/admin/reports", moderation_pages.reports),
        post("/admin/reports/{report_id:int}/resolve", moderation_pages.resolve_report),
        get("/", timeline_pages.home),
        get("/local", timeline_pages.local),
        get("/public", timeline_pages.public),
        get("/tags/{name}", timeline_pages.tag),
        get("/compose", compose.compose_form_page),
        post("/statuses", compose.publish),
        get("/statuses/{status_id}/edit", status_pages.edit_form),
        post("/statuses/{status_id}/edit", status_pages.edit),
        get("/statuses/{status_id}/delete", status_pages.delete_form),
        post("/statuses/{status_id}/delete", status_pages.delete),
        post("/statuses/{status_id}/{action}", status_pages.act),
        get("/@{handle:handle}", profile_pages.profile),
        get("/@{handle:handle}/followers", profile_pages.followers),
        get("/@{handle:handle}/following", profile_pages.following),
        get("/@{handle:handle}/report", report_pages.report_form),
        post("/@{handle:handle}/report", report_pages.send_report),
        get("/@{handle:handle}/{status_id}", status_pages.thread),
        post("/@{handle:handle}/{action}", profile_pages.relate),
        get("/notifications", notification_pages.notifications),
        get("/follow_requests", notification_pages.follow_requests),
        post("/follow_requests/{identity:int}/{verdict}", notification_pages.answer),
        get("/search", search_pages.search),
        get("/media/remote/{key}", media_files.remote_media_file),
        get("/media/remote/{key}/small", media_files.remote_media_file),
        get("/media/{digest}", media_files.media_file),
        Mount("/static", app=StaticFiles(packages=[("weft.web", "static")]), name="static"),
    ]
