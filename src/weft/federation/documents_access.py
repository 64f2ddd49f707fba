"""Who asks for a document, and in what form: content negotiation and signed GETs.

- A request whose ``Accept`` names Activity Streams (``application/activity+json``, or
  ``application/ld+json`` with the AS2 profile; plain ``application/json`` too, which some
  software sends) is answered with the document; anything else (a browser) is sent to the
  web app's page.
- A signed GET says which actor asks. Its signature is checked with the key of one of our
  own actors, or a remote actor's key (``site.federation.actors.key_for``, which fetches a
  key it does not hold; without it, only keys already in ``remote_actors``). The signer
  may then see the followers-only and direct posts it may see on the web (weft.store.statuses).
- With authorized fetch on (``WEFT_AUTHORIZED_FETCH``), documents are for signed GETs
  only: an unsigned or badly signed request is refused with 401. Otherwise a bad
  signature counts as no signature: the request is anonymous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from sqlalchemy import select
from starlette.requests import Request

from weft.errors import WeftError
from weft.federation.fetching_body import is_activity_streams
from weft.federation.httpsig import SignatureMismatch, SignatureRejected, parse, verify
from weft.federation.urls import INSTANCE_ACTOR_ID, instance_actor_url, local_ref
from weft.store.accounts import account_by
from weft.store.people import identity_id_of
from weft.store.schema import remote_actors

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["AS2_TYPE", "Asker", "Unauthorized", "asker", "wants_activity_streams"]

AS2_TYPE: Final = "application/activity+json"
KeyLookup = Callable[[str], Awaitable[tuple[str, str] | None]]


class Unauthorized(WeftError):
    """A document that needs a valid HTTP signature (authorized fetch), asked for without one."""


def wants_activity_streams(request: Request) -> bool:
    for item in request.headers.get("accept", "").split(","):
        kind = item.split(";", 1)[0].strip().lower()
        if kind == "application/json" or is_activity_streams(item.strip()):
            return True
    return False


@dataclass(frozen=True)
class Asker:
    """Who a GET comes from: ``actor`` is the signer's IRI (None: anonymous), ``identity``
    its identity row here, if it has one (a remote actor we have heard of, or ours)."""

    actor: str | None = None
    identity: int | None = None


def _url(request: Request, site: Site) -> str:
    # The URL as the signer addressed it: our scheme, the Host it sent, the path and query.
    base = urlsplit(site.base_url)
    host = request.headers.get("host") or base.netloc
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base.scheme}://{host}{request.url.path}{query}"


async def _own_key(site: Site, key_id: str) -> tuple[str, str] | None:
    """(actor, PEM) when ``key_id`` is the key of one of this site's actors."""
    if site.federation is None:
        return None
    ref = local_ref(site.base_url, key_id)
    if ref is not None and ref.kind == "instance_actor":
        return instance_actor_url(site.base_url), await site.federation.keys.public_pem(INSTANCE_ACTOR_ID)
    if ref is None or ref.kind != "actor" or ref.username is None:
        return None
    async with site.node.db.read() as conn:
        account = await account_by(conn, username=ref.username)
    if account is None or account.state != "active":
        return None
    return f"{site.base_url}/users/{account.username}", await site.federation.keys.public_pem(account.identity)


async def _held_key(site: Site, key_id: str) -> tuple[str, str] | None:
    async with site.node.db.read() as conn:
        row = (await conn.execute(select(remote_actors.c.iri, remote_actors.c.public_key_pem)
                                  .where(remote_actors.c.key_id == key_id))).first()
    return None if row is None or not row.public_key_pem else (row.iri, row.public_key_pem)


async def _remote_key(site: Site, key_id: str, refresh: bool) -> tuple[str, str] | None:
    actors = getattr(site.federation, "actors", None)   # remote actors (fetched keys), when present
    if actors is None:
        return None if refresh else await _held_key(site, key_id)
    try:
        found: tuple[str, str] = await actors.key_for(key_id, refresh=refresh)
    except WeftError:
        return None
    return found


async def _signer(request: Request, site: Site) -> str:
    """The actor whose key verifies the request's signature; raises Unauthorized."""
    try:
        signed = parse(method=request.method, url=_url(request, site),
                       headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                       body=None, now=site.node.clock())
    except SignatureRejected as rejected:
        raise Unauthorized(f"signature: {rejected}") from None
    own = await _own_key(site, signed.key_id)
    for refresh in (False, True):
        found = own or await _remote_key(site, signed.key_id, refresh)
        if found is None:
            raise Unauthorized(f"the signing key {signed.key_id[:200]} cannot be had")
        try:
            verify(signed, found[1])
        except SignatureMismatch as mismatch:
            if own is not None or refresh:
                raise Unauthorized(f"signature: {mismatch}") from None
            continue   # a key rotated since we stored it: fetch it once more
        except SignatureRejected as rejected:
            raise Unauthorized(f"signature: {rejected}") from None
        return found[0]
    raise Unauthorized("signature: it does not verify")   # pragma: no cover - the loop returns or raises


async def asker(request: Request, site: Site) -> Asker:
    """Who asks; raises Unauthorized when authorized fetch wants a signature this lacks."""
    required = site.federation is not None and site.federation.settings.authorized_fetch
    if not request.headers.get("signature") and not request.headers.get("signature-input"):
        if required:
            raise Unauthorized("this server serves its documents to signed requests only (authorized fetch)")
        return Asker()
    try:
        actor = await _signer(request, site)
    except Unauthorized:
        if required:
            raise
        return Asker()
    own = local_ref(site.base_url, actor)
    async with site.node.db.read() as conn:
        if own is not None and own.kind == "actor" and own.username:
            account = await account_by(conn, username=own.username)
            return Asker(actor, account.identity if account is not None else None)
        return Asker(actor, await identity_id_of(conn, actor))
