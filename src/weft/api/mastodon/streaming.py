"""The streaming API: live events of ``weft.social.events`` as Mastodon clients read them.

- WebSocket at ``/api/v1/streaming``: the token in ``Authorization: Bearer``, in
  ``Sec-WebSocket-Protocol`` (echoed back, as browsers require) or in ``access_token``;
  streams named by the ``stream`` (and ``tag``) query parameters, or by messages
  ``{"type": "subscribe"|"unsubscribe", "stream": "hashtag", "tag": "weft"}``. Each event
  is ``{"stream": ["user"], "event": "update", "payload": "<the Status as a JSON string>"}``;
  a delete's payload is the status id. A message that cannot be followed is answered
  ``{"error": "…", "status": 400}`` and the connection stays open.
- Server-sent events at ``/api/v1/streaming/user``, ``/user/notification``, ``/public``,
  ``/public/local`` (``?only_media=true`` for posts with images), ``/hashtag?tag=`` and
  ``/hashtag/local?tag=``: ``event: update`` and ``data: {…}`` lines, a ``:thump``
  comment every 15 seconds so that proxies keep the connection.
- ``/api/v1/streaming/health`` answers ``OK``.

As in Mastodon since 4.2, every stream needs a person's token: ``read`` or
``read:statuses`` (``read:notifications`` for ``user:notification``); the ``user`` stream
carries notifications only when the token may read them. Unknown channels are a 400
``Unknown channel requested``. Remote-only streams (``public:remote``) are not offered:
weft has no posts from other servers' Mastodon yet (see ``timelines``).

A listener that reads too slowly is dropped by the hub (the WebSocket closes with 1013,
an SSE response ends); when the server stops, the hub ends every stream, so that open
responses do not hold the shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

import orjson
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from weft.api.mastodon.auth import OUT_OF_SCOPE, authorize, endpoint, error_json, person_of, site_of
from weft.api.mastodon.cors import api_route
from weft.api.mastodon.oauth_server import Grant, OAuthServer
from weft.api.mastodon.params import Params
from weft.api.mastodon.scopes import covers_any
from weft.api.mastodon.status_entities import notification_entity, status_entity
from weft.errors import AuthError, Forbidden, UsageError, WeftError
from weft.social.streams import Event, Stream

if TYPE_CHECKING:
    from weft.site import Site
    from weft.social.events import Subscription

__all__ = ["HEARTBEAT_S", "ROUTES", "event_payload"]

HEARTBEAT_S: Final = 15.0
READ_STATUSES: Final = ("read:statuses",)
READ_NOTIFICATIONS: Final = ("read:notifications",)
UNKNOWN_CHANNEL: Final = "Unknown channel requested"
_SLOW: Final = 1013      # "try again later": the hub dropped a listener that fell behind
_GOING_AWAY: Final = 1001


def needed_scopes(stream: Stream) -> tuple[str, ...]:
    return READ_NOTIFICATIONS if stream.name == "user:notification" else READ_STATUSES


def event_payload(event: Event, base_url: str) -> str:
    """The event's payload as Mastodon sends it: an entity as a JSON string, or an id."""
    if event.kind == "delete":
        return str(event.status_id)
    if event.kind == "notification" and event.notification is not None:
        return orjson.dumps(notification_entity(event.notification, base_url)).decode()
    if event.status is None:
        raise ValueError(f"a {event.kind} event without its status")
    return orjson.dumps(status_entity(event.status, base_url)).decode()


def _shown(event: Event, grant: Grant) -> bool:
    """Notifications go to whom the token lets read them."""
    return event.kind != "notification" or covers_any(grant.scopes, READ_NOTIFICATIONS)


# -- server-sent events ---------------------------------------------------------------------


async def _events_as_text(subscription: Subscription, grant: Grant, base_url: str) -> AsyncIterator[str]:
    try:
        yield ":)\n"
        while True:
            event = await subscription.next(timeout=HEARTBEAT_S)
            if event is None:
                if subscription.ended is not None:
                    return
                yield ":thump\n"
            elif _shown(event, grant):
                yield f"event: {event.kind}\ndata: {event_payload(event, base_url)}\n\n"
    finally:
        subscription.close()


def _sse(name: str, *, media: bool = False) -> Any:
    @endpoint
    async def stream(request: Request) -> Response:
        params = Params(dict(request.query_params))
        chosen = f"{name}:media" if media and params.flag("only_media") else name
        wanted = Stream.named(chosen, params.text("tag", limit=200))
        grant = await authorize(request, *needed_scopes(wanted))
        site = site_of(request)
        # Subscribed before the answer starts: whatever is written once a client has the
        # headers reaches it.
        subscription = await site.social.events.subscribe(person_of(grant), [wanted])
        return StreamingResponse(_events_as_text(subscription, grant, site.base_url),
                                 media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"},
                                 # also when the client leaves before the first line is read
                                 background=BackgroundTask(subscription.close))

    return stream


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def unknown_channel(request: Request) -> Response:
    return error_json(400, {"error": UNKNOWN_CHANNEL})


# -- WebSocket ----------------------------------------------------------------------------


def _token_of(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, the subprotocol to answer with) from the places Mastodon clients put it."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), None
    protocol = websocket.headers.get("sec-websocket-protocol", "").strip()
    if protocol:
        return protocol, protocol
    return websocket.query_params.get("access_token") or None, None


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_json(status, {"error": message}))
    else:
        await websocket.close(code=1008, reason=message[:120])


async def websocket_stream(websocket: WebSocket) -> None:
    site: Site = websocket.app.state.site
    token, protocol = _token_of(websocket)
    try:
        if token is None:
            raise AuthError("Missing access token")
        grant = await OAuthServer(site).grant(token)
        if grant.account is None:
            raise AuthError("This stream requires a person's access token")
        if not covers_any(grant.scopes, ("read:statuses", "read:notifications")):
            raise Forbidden(OUT_OF_SCOPE)
    except (AuthError, Forbidden) as exc:
        await _deny(websocket, 401 if isinstance(exc, AuthError) else 403, str(exc))
        return
    subscription = await site.social.events.subscribe(person_of(grant))
    try:
        await websocket.accept(subprotocol=protocol)
        connection = _Connection(websocket, subscription, grant, site.base_url)
        if "stream" in websocket.query_params:
            await connection.follow({"type": "subscribe", "stream": websocket.query_params["stream"],
                                     "tag": websocket.query_params.get("tag")})
        await connection.run()
    finally:
        subscription.close()


class _Connection:
    """One WebSocket: its commands in, its events out, one message at a time."""

    def __init__(self, websocket: WebSocket, subscription: Subscription, grant: Grant, base_url: str) -> None:
        self.websocket = websocket
        self.subscription = subscription
        self.grant = grant
        self.base_url = base_url
        self._sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._sending:
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def run(self) -> None:
        commands = asyncio.create_task(self._read_commands())
        events = asyncio.create_task(self._send_events())
        done, pending = await asyncio.wait({commands, events}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            failure = task.exception()
            if failure is not None and not isinstance(failure, WebSocketDisconnect):   # a client that left
                raise failure   # the server's own, for its log
        if events in done and self.websocket.client_state == WebSocketState.CONNECTED:
            ended = self.subscription.ended or ""
            # The client may have gone meanwhile, or the server closed it as it stops.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(_SLOW if ended.startswith("too slow") else _GOING_AWAY, ended[:120])

    async def _read_commands(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            try:
                command = orjson.loads(raw)
            except orjson.JSONDecodeError:
                await self.send({"error": "A message must be a JSON object", "status": 400})
                continue
            await self.follow(command)

    async def follow(self, command: Any) -> None:
        """Subscribe or unsubscribe as ``command`` says; an error message if it cannot be done."""
        try:
            if not isinstance(command, dict) or command.get("type") not in ("subscribe", "unsubscribe"):
                raise UsageError('a message is {"type": "subscribe" or "unsubscribe", "stream": …}')
            name, tag = command.get("stream"), command.get("tag")
            if not isinstance(name, str) or not (tag is None or isinstance(tag, str)):
                raise UsageError("stream and tag must be strings")
            stream = Stream.named(name, tag)
            if command["type"] == "unsubscribe":
                self.subscription.streams.discard(stream)
                return
            if not covers_any(self.grant.scopes, needed_scopes(stream)):
                await self.send({"error": OUT_OF_SCOPE, "status": 403})
                return
            self.subscription.streams.add(stream)
        except WeftError as exc:
            await self.send({"error": str(exc), "status": 400})

    async def _send_events(self) -> None:
        while True:
            event = await self.subscription.next()
            if event is None:
                return
            if _shown(event, self.grant):
                await self.send({"stream": event.stream.labels, "event": event.kind,
                                 "payload": event_payload(event, self.base_url)})


ROUTES: Final[list[BaseRoute]] = [
    WebSocketRoute("/api/v1/streaming", websocket_stream),
    api_route("/api/v1/streaming/health", health, ["GET", "HEAD"]),
    api_route("/api/v1/streaming/user", _sse("user"), ["GET"]),
    api_route("/api/v1/streaming/user/notification", _sse("user:notification"), ["GET"]),
    api_route("/api/v1/streaming/public", _sse("public", media=True), ["GET"]),
    api_route("/api/v1/streaming/public/local", _sse("public:local", media=True), ["GET"]),
    api_route("/api/v1/streaming/hashtag", _sse("hashtag"), ["GET"]),
    api_route("/api/v1/streaming/hashtag/local", _sse("hashtag:local"), ["GET"]),
    Route("/api/v1/streaming/{rest:path}", unknown_channel, methods=["GET"]),
]
