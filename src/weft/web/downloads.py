"""What a person takes away from this server: their recovery key and their archive.

Both let someone leave: the recovery key takes the identity back (it outranks every key
the server holds), the archive carries its whole signed history to another node. Neither
is ever cached, and the recovery key is offered only until its owner says they kept it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Final

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from weft.archive import export_archive
from weft.site import Site
from weft.web.pages import read_form, see_other
from weft.web.visitors import check_csrf, signed_in

__all__ = ["archive", "forget_recovery_key", "recovery_key"]

_PRIVATE: Final = {"cache-control": "no-store"}


async def recovery_key(request: Request, site: Site) -> Response:
    """The recovery key as a key file (``weft keys`` reads it); 404 once it is forgotten."""
    me = await signed_in(request, site)
    text = await site.accounts.recovery_key_text(me.account)
    filename = f"weft-recovery-{me.account.username}.key"
    return PlainTextResponse(text, headers={
        **_PRIVATE, "content-disposition": f'attachment; filename="{filename}"'})


async def forget_recovery_key(request: Request, site: Site) -> Response:
    me = await signed_in(request, site)
    check_csrf(await read_form(request), me.csrf)
    await site.accounts.forget_recovery_key(me.account)
    return see_other("/settings?notice=recovery_key_forgotten")


async def archive(request: Request, site: Site) -> Response:
    """The identity's archive (as ``weft export`` writes it), built in a private temporary
    directory that is removed once the file is sent."""
    me = await signed_in(request, site)
    directory = Path(tempfile.mkdtemp(prefix="weft-archive-"))
    try:
        path = directory / f"weft-archive-{me.account.username}.weft"
        await export_archive(site.node, path, me.account.did)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FileResponse(path, media_type="application/octet-stream", filename=path.name,
                        headers=_PRIVATE,
                        background=BackgroundTask(shutil.rmtree, directory, ignore_errors=True))
