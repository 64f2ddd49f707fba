"""The settings page: profile, email address, password, and what the identity is made of.

A profile is an entry the account's web device signs (``type: profile``), merged with the
current one so that what this form does not show (an avatar, fields past the fourth, the
bot flag) stays as it was.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from weft.errors import AuthError, EncodingError, UsageError
from weft.ratelimit import limit
from weft.site import Site
from weft.web.display import person_view
from weft.web.pages import field, notice, read_form, see_other
from weft.web.rendering import render, status_for
from weft.web.visitors import Visitor, check_csrf, client_key, signed_in

__all__ = ["change_email", "change_password", "save_profile", "settings"]

FORM_FIELDS: Final = 4     # profile fields the form shows (the format allows 16)
NAME_MAX: Final = 100      # the limits of weft.core.content's profile
BIO_MAX: Final = 2000
FIELD_TEXT_MAX: Final = 500


def _profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """What the profile form shows of ``profile``: empty rows up to FORM_FIELDS."""
    pairs = [(str(name), str(value)) for name, value in profile.get("fields", [])[:FORM_FIELDS]]
    pairs += [("", "")] * (FORM_FIELDS - len(pairs))
    return {"name": profile.get("name", ""), "bio": profile.get("bio", ""), "fields": pairs,
            "locked": bool(profile.get("locked", False))}


async def settings_page(request: Request, site: Site, me: Visitor, *, status: int = 200,
                        errors: dict[str, str] | None = None,
                        values: dict[str, Any] | None = None) -> Response:
    """The settings page; ``errors`` (by form: profile, email, password) and ``values``
    (what the person typed into the form that failed) override what is stored."""
    did = me.account.did
    profile = (await site.node.profile(did))["profile"]
    state = await site.node.state(did)
    devices = [{"key": key, "name": str(info.get("name", "")), "added": info.get("added")}
               for key, info in state.devices.items()]
    revoked = [{"key": key, "last_seq": last} for key, last in state.revoked.items()]
    shown = {"profile": _profile_values(profile), "email": me.account.email or "", "alias": "", "move_to": "",
             **(values or {})}
    moved = (await site.social.following.person(me.account.identity)).moved
    return render(request, "settings.html", title="Settings", status=status, me=me,
                  handle=f"@{me.account.username}@{site.host}", values=shown,
                  errors={"profile": None, "email": None, "password": None, "aliases": None, "move": None,
                          **(errors or {})},
                  devices=devices, revoked=revoked, notice=notice(request),
                  aliases=await site.social.moving.aliases(me.account),
                  moved=person_view(moved, site.base_url) if moved is not None else None)


async def settings(request: Request, site: Site) -> Response:
    return await settings_page(request, site, await signed_in(request, site))


def _typed_profile(form: FormData) -> dict[str, Any]:
    """The profile form as the person filled it in (shown again if it cannot be saved)."""
    pairs = [(field(form, f"field_name_{index}").strip(), field(form, f"field_value_{index}").strip())
             for index in range(FORM_FIELDS)]
    return {"name": field(form, "name").strip(), "bio": field(form, "bio").strip(),
            "fields": pairs, "locked": form.get("locked") == "on"}


def _check_profile(typed: dict[str, Any]) -> None:
    """The profile format's limits, said in the words of the form."""
    if len(typed["name"]) > NAME_MAX:
        raise UsageError(f"the display name is longer than {NAME_MAX} characters")
    if len(typed["bio"]) > BIO_MAX:
        raise UsageError(f"the bio is longer than {BIO_MAX} characters")
    for index, (name, value) in enumerate(typed["fields"], start=1):
        if len(name) > FIELD_TEXT_MAX or len(value) > FIELD_TEXT_MAX:
            raise UsageError(f"the label and content of field {index} are at most "
                             f"{FIELD_TEXT_MAX} characters each")


async def save_profile(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    try:
        typed = _typed_profile(form)
        _check_profile(typed)
        current = (await site.node.profile(me.account.did))["profile"]
        fields = [[name, value] for name, value in typed["fields"] if name or value]
        profile: dict[str, Any] = {**current, "type": "profile", "locked": typed["locked"],
                                   "fields": fields + current.get("fields", [])[FORM_FIELDS:]}
        for key in ("name", "bio"):
            if typed[key]:
                profile[key] = typed[key]
            else:
                profile.pop(key, None)
        if typed["locked"] and current.get("locked") is not True:
            await site.social.following.let_in_followers(me.account)  # locking keeps the followers it had
        # The content format checks again (EncodingError), should ours ever miss something.
        await site.node.publish(profile, author=site.accounts.author(me.account))
    except (UsageError, EncodingError) as exc:
        return await settings_page(request, site, me, status=status_for(exc),
                                   errors={"profile": str(exc)},
                                   values={"profile": _typed_profile(form)})
    return see_other("/settings?notice=profile_saved")


async def change_password(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    # Someone at an unlocked screen could guess the current password here: the login limit.
    limit(site.limits.login, client_key(request))
    try:
        new = field(form, "new_password")
        if new != field(form, "new_password_again"):
            raise UsageError("the two new passwords are not the same")
        await site.accounts.change_password(me.account, field(form, "current_password"), new,
                                            keep_session=me.token)
    except (UsageError, AuthError) as exc:
        return await settings_page(request, site, me, status=status_for(exc),
                                   errors={"password": str(exc)})
    return see_other("/settings?notice=password_changed")


async def change_email(request: Request, site: Site) -> Response:
    """A new address (or none); the password is asked for, since whoever controls the
    address can reset the password."""
    me = await signed_in(request, site)
    form = await read_form(request)
    check_csrf(form, me.csrf)
    limit(site.limits.login, client_key(request))
    email = field(form, "email", limit=320).strip()
    try:
        try:
            await site.accounts.login(me.account.username, field(form, "password"))
        except AuthError:
            raise AuthError("the password is wrong") from None
        await site.accounts.update_settings(me.account, email=email)
    except (UsageError, AuthError) as exc:
        return await settings_page(request, site, me, status=status_for(exc),
                                   errors={"email": str(exc)}, values={"email": email})
    return see_other("/settings?notice=email_changed")
