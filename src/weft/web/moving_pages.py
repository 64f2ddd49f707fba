"""The settings forms of an account's migration (weft.social.moving): the aliases (accounts
this one moves from, which must be listed before they can move here) and moving this
account to another. Both answer on the settings page, with what went wrong in the form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from weft.errors import AuthError, EncodingError, NotFound, UsageError
from weft.ratelimit import limit
from weft.site import Site
from weft.web.pages import field, read_form, see_other
from weft.web.rendering import status_for
from weft.web.settings_pages import settings_page
from weft.web.visitors import check_csrf, client_key, signed_in

__all__ = ["add_alias", "move_account", "remove_alias"]

_NAME_MAX = 2048


async def add_alias(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    typed = field(form, "alias", limit=_NAME_MAX, label="the account").strip()
    try:
        await site.social.moving.add_alias(me.account, typed)
    except (UsageError, NotFound, EncodingError) as exc:
        return await settings_page(request, site, me, status=status_for(exc), errors={"aliases": str(exc)},
                                   values={"alias": typed})
    return see_other("/settings?notice=alias_added")


async def remove_alias(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    try:
        await site.social.moving.remove_alias(me.account, field(form, "alias", limit=_NAME_MAX))
    except (UsageError, NotFound, EncodingError) as exc:
        return await settings_page(request, site, me, status=status_for(exc), errors={"aliases": str(exc)})
    return see_other("/settings?notice=alias_removed")


async def move_account(request: Request, site: Site) -> Response:
    """Move to the account named, which must list this one as an alias; the password is
    asked for, since a move takes the followers away."""
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    limit(site.limits.login, client_key(request))   # a password is checked: the login limit
    typed = field(form, "move_to", limit=_NAME_MAX, label="the new account").strip()
    try:
        await site.social.moving.move(me.account, typed, field(form, "password"))
    except (UsageError, NotFound, AuthError, EncodingError) as exc:
        return await settings_page(request, site, me, status=status_for(exc), errors={"move": str(exc)},
                                   values={"move_to": typed})
    return see_other("/settings?notice=moved")
