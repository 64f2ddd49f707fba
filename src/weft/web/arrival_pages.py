"""Arriving with a weft archive: the sign-up form for someone whose identity lives elsewhere.

They bring the archive they downloaded from their old server and its recovery key file.
Both stream to private temporary files (weft.web.streamed_form), the archive up to the
site's ``max_archive_bytes``, and are removed once the arrival is done or refused. The
account service does the rest (``Accounts.arrive``); this page reads the form, checks
the CSRF token, the registration mode and the rate limit, and says what went wrong with
the fields kept (never the passwords nor the files).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from weft.accounts import Account, RegistrationMode
from weft.accounts.arrival import MAX_KEY_FILE_CHARS
from weft.errors import ArchiveError, Forbidden, UsageError
from weft.ratelimit import limit
from weft.site import Site
from weft.web.pages import see_other
from weft.web.rendering import render, status_for
from weft.web.streamed_form import StreamedForm, UploadTooLarge, read_streamed_form, size_text
from weft.web.visitors import (
    check_form_token,
    client_key,
    form_token,
    keep_form_token,
    start_session_cookie,
    user_agent,
    visitor,
)

__all__ = ["arrival_form", "arrive"]

_FIELDS: Final = ("username", "email", "reason")
_FIELD_LIMITS: Final = {"username": 100, "email": 320, "reason": 2000}


def _page(request: Request, site: Site, mode: RegistrationMode, token: str, *, values: dict[str, str],
          error: str | None = None, status: int = 200) -> Response:
    if mode == "closed":
        response = render(request, "sign_up_closed.html", title="Sign-ups are closed",
                          status=403 if request.method == "POST" else 200)
    else:
        response = render(request, "arrive.html", title="Arrive with your weft archive", status=status,
                          csrf=token, mode=mode, values=values, error=error,
                          max_archive=size_text(site.max_archive_bytes))
    keep_form_token(response, site, token)
    return response


async def arrival_form(request: Request, site: Site) -> Response:
    if await visitor(request, site) is not None:
        return see_other("/settings")
    mode = await site.accounts.registration_mode()
    return _page(request, site, mode, form_token(request), values=dict.fromkeys(_FIELDS, ""))


async def arrive(request: Request, site: Site) -> Response:
    mode = await site.accounts.registration_mode()
    blank = dict.fromkeys(_FIELDS, "")
    if mode == "closed":
        return _page(request, site, mode, form_token(request), values=blank)
    limit(site.limits.sign_up, client_key(request))
    try:
        form = await read_streamed_form(request, limits={"archive": site.max_archive_bytes,
                                                         "recovery_key": MAX_KEY_FILE_CHARS * 4})
    except UploadTooLarge as exc:
        return _page(request, site, mode, form_token(request), values=blank, error=str(exc), status=413)
    try:
        token = check_form_token(request, form.form_data())
        values = {name: form.fields.get(name, "")[:_FIELD_LIMITS[name]] for name in _FIELDS}
        try:
            account = await _arrive(site, form, values, mode)
        except (UsageError, Forbidden, ArchiveError) as exc:
            status = 422 if isinstance(exc, ArchiveError) else status_for(exc)
            return _page(request, site, mode, token, values=values, error=str(exc), status=status)
    finally:
        await asyncio.to_thread(form.remove)
    if account.state == "pending":
        return render(request, "sign_up_pending.html", title="Thank you for signing up",
                      username=account.username)
    session_token, _ = await site.accounts.start_session(account, user_agent(request))
    response = see_other(f"/@{account.username}")
    start_session_cookie(response, site, session_token)
    return response


async def _arrive(site: Site, form: StreamedForm, values: dict[str, str], mode: RegistrationMode) -> Account:
    password = form.fields.get("password", "")
    if password != form.fields.get("password_again", ""):
        raise UsageError("the two passwords are not the same")
    archive = form.files.get("archive")
    if archive is None:
        raise UsageError("choose the archive file you downloaded from your old server")
    key_file = form.files.get("recovery_key")
    if key_file is None:
        raise UsageError("choose your recovery key file")
    try:
        recovery_key = (await asyncio.to_thread(Path(key_file).read_bytes)).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the recovery key file is not a weft key file") from None
    return await site.accounts.arrive(values["username"], password, archive, recovery_key,
                                      email=values["email"] or None,
                                      reason=values["reason"] if mode == "approval" else None)
