"""The inboxes: ``POST /inbox`` (shared) and ``POST /users/{name}/inbox``.

What a delivery must be, in the order it is checked (each refusal answers at once):

1. at most 1 MiB (413), of an Activity Streams type (415), a JSON object with a type and
   an actor IRI (400; weft.federation.activitystreams_envelope: the rest is read when it is
   mapped);
2. from a host that has not sent more than 3,000 deliveries in 5 minutes (429 with
   Retry-After; ``site.limits.inbox``, lifted by WEFT_RATE_LIMITS=off as the others are).
   The host is the one the signature's keyId names, read before any key is fetched, so
   that a flood costs us no fetches;
3. signed (401): the signature is read under Mastodon's rules (weft.federation.httpsig:
   its time window, method, target, host, date and digest covered), its key is found
   (stored, else fetched: weft.federation.remote_actors.key_for) and checked; a mismatch
   fetches the key once more (the sender may have rotated it) and checks again; the key's
   owner must be the activity's ``actor``.

A Delete of an actor whose key cannot be fetched because the actor is gone (410) is
answered 202 and ignored, as Mastodon does: nothing could check it, and there is nothing
left to fetch. Everything else that passes is kept in the inbox queue and answered 202
once it is committed (503 if it cannot be); the queue's drainer maps and ingests it
(weft.federation.inbox_queue, weft.federation.inbound): idempotent, since one origin is
stored once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from weft.errors import NotFound
from weft.federation.activitystreams import ActivityStreamsError
from weft.federation.activitystreams_envelope import Envelope, read_envelope
from weft.federation.fetching_body import is_activity_streams
from weft.federation.httpsig import (
    SignatureMismatch,
    SignatureRejected,
    SignatureRequest,
    parse,
    verify,
)
from weft.federation.remote_actors import RemoteActorError

if TYPE_CHECKING:
    from weft.federation.service import Federation
    from weft.site import Site

__all__ = ["MAX_BODY_BYTES", "Inbox", "routes"]

log = logging.getLogger("weft.federation.inbox")

MAX_BODY_BYTES: Final = 1024 * 1024


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _json_content(content_type: str | None) -> bool:
    return is_activity_streams(content_type)


class Inbox:
    """Receives deliveries for one site (``site.federation.inbox``)."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self.limits = federation.site.limits.inbox

    async def handle(self, request: Request) -> Response:
        try:
            body = await _body(request)
            if not _json_content(request.headers.get("content-type")):
                raise _Refused(415, "an inbox takes application/activity+json or application/ld+json")
            activity = _envelope(body)
            signed = parse(method=request.method, url=self._url(request), headers=_headers(request), body=body,
                           now=self.federation.site.node.clock())
            self._rate_limit(signed.key_id)
            for sender in (signed.key_id, activity.actor):
                if await self.federation.suspended(sender):
                    raise _Refused(403, f"{urlsplit(sender).hostname} is suspended here")
            owner = await self._verified(signed, activity)
            if owner is None:
                return Response(status_code=202)
            if owner != activity.actor:
                raise _Refused(401, f"signed by a key of {owner[:200]}, not of the activity's actor")
        except _Refused as refused:
            return JSONResponse({"error": str(refused)}, status_code=refused.status, headers=refused.headers)
        except SignatureRejected as rejected:
            return JSONResponse({"error": f"signature: {rejected}"}, status_code=401)
        try:
            await self.federation.inbox_queue.add(body)
        except Exception:
            log.exception("keeping a delivery from %s failed", owner[:200])
            return JSONResponse({"error": "the delivery could not be kept; send it again later"}, status_code=503,
                                headers={"Retry-After": "60"})
        return Response(status_code=202)

    def _url(self, request: Request) -> str:
        """The URL as the sender addressed it: our scheme, the Host it sent, path and query."""
        scheme = urlsplit(self.federation.base_url).scheme
        host = request.headers.get("host") or urlsplit(self.federation.base_url).netloc
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{scheme}://{host}{request.url.path}{query}"

    def _rate_limit(self, key_id: str) -> None:
        host = urlsplit(key_id).netloc.lower()
        wait = self.limits.check(host)
        if wait > 0:
            raise _Refused(429, f"too many deliveries from {host}", {"Retry-After": str(int(wait) + 1)})

    async def _verified(self, signed: SignatureRequest, activity: Envelope) -> str | None:
        """The IRI of the actor whose key verifies the signature; None for the one case
        answered 202 unchecked (a gone actor's own Delete)."""
        actors = self.federation.actors
        try:
            owner, pem = await actors.key_for(signed.key_id)
        except RemoteActorError as error:
            deleting_itself = activity.has_type("Delete") and activity.object == activity.actor
            if error.gone and deleting_itself:
                return None
            raise _Refused(401, f"the signing key cannot be had: {error}") from error
        try:
            verify(signed, pem)
        except SignatureMismatch:
            try:
                owner, pem = await actors.key_for(signed.key_id, refresh=True)
            except RemoteActorError as error:
                raise _Refused(401, f"the signature does not verify, and the key cannot be fetched again: "
                                    f"{error}") from error
            verify(signed, pem)
        return owner


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Refused(413, f"a delivery is at most {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Refused(413, f"a delivery is at most {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    except ClientDisconnect as gone:
        raise _Refused(400, "the body was cut off") from gone
    return b"".join(chunks)


def _envelope(body: bytes) -> Envelope:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _Refused(400, f"not JSON: {error}") from error
    try:
        return read_envelope(document)
    except ActivityStreamsError as error:
        raise _Refused(400, f"not an activity: {error}") from error


def _headers(request: Request) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]


def routes(site: Site) -> list[BaseRoute]:
    """The shared inbox and every account's inbox (deliveries to either are handled alike:
    an activity says whom it is for)."""

    async def inbox(request: Request) -> Response:
        federation = site.federation
        if federation is None:   # pragma: no cover - site_routes sets it before serving
            return JSONResponse({"error": "federation is off"}, status_code=503)
        return await federation.inbox.handle(request)

    async def personal_inbox(request: Request) -> Response:
        # A sender that delivers to the inbox of someone not here has a wrong address: say so.
        try:
            await site.accounts.by_username(request.path_params["name"])
        except NotFound as missing:
            return JSONResponse({"error": str(missing)}, status_code=404)
        return await inbox(request)

    return [Route("/inbox", inbox, methods=["POST"]),
            Route("/users/{name}/inbox", personal_inbox, methods=["POST"])]
