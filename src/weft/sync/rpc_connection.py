"""muxrpc over a secure stream, with asyncio: the adapter around ``RpcSession``.

One task reads the stream, feeds the session and routes its events: a request from the
peer starts the handler in a task of its own; data, ends and errors go to the stream
they belong to. Each stream's inbox is bounded, so a reader that falls behind stops the
socket being read, and TCP pushes back on the peer instead of our memory filling up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from weft.errors import RpcProtocolError, TransportError, WeftError
from weft.sync.muxrpc import RpcLimits, RpcSession
from weft.sync.muxrpc_events import (
    NEED_DATA,
    Closed,
    ErrorReceived,
    Request,
    RequestType,
    Response,
    StreamData,
    StreamEnded,
)
from weft.sync.muxrpc_packets import BodyType
from weft.sync.secure_stream import SecureStream

__all__ = ["RpcConnection", "RpcStream", "StreamFailed"]

log = logging.getLogger("weft.sync")

INBOX_PACKETS = 16

RequestHandler = Callable[["RpcStream", Request], Awaitable[None]]


class StreamFailed(WeftError):
    """The peer closed a stream with an error, or the connection went before it ended."""


class RpcStream:
    """One request's stream, as the code on either end of it sees it."""

    def __init__(self, connection: RpcConnection, number: int) -> None:
        self.connection = connection
        self.number = number
        self._inbox: asyncio.Queue[StreamData | StreamEnded | ErrorReceived | Response | None] = (
            asyncio.Queue(INBOX_PACKETS))
        self.ended = False

    async def send(self, value: Any, body_type: BodyType = BodyType.JSON) -> None:
        await self.connection._call(lambda session: session.send(self.number, value, body_type))

    async def end(self) -> None:
        await self.connection._call(lambda session: session.end(self.number))

    async def fail(self, message: str) -> None:
        await self.connection._call(lambda session: session.send_error(self.number, message))

    async def __aiter__(self) -> AsyncIterator[StreamData]:
        """The peer's data on this stream until it ends it; StreamFailed on an error or a lost link."""
        while True:
            event = await self._inbox.get()
            if isinstance(event, StreamData):
                yield event
            elif isinstance(event, StreamEnded):
                self.ended = True
                return
            elif isinstance(event, ErrorReceived):
                raise StreamFailed(f"{self.connection.peer}: {event.name}: {event.message[:300]}")
            else:
                raise StreamFailed(f"{self.connection.peer}: the connection closed before stream "
                                   f"{self.number} ended")


class RpcConnection:
    """A muxrpc session on a secure stream. Use ``async with``; ``handler`` answers the peer."""

    def __init__(self, stream: SecureStream, handler: RequestHandler, *,
                 limits: RpcLimits | None = None) -> None:
        self.stream = stream
        self.peer = stream.peer_did
        self._session = RpcSession(limits)
        self._handler = handler
        self._streams: dict[int, RpcStream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self.closed = asyncio.Event()
        self.failure: Exception | None = None

    async def __aenter__(self) -> RpcConnection:
        self._reader = asyncio.create_task(self._read_loop(), name=f"weft-rpc-{self.peer[:24]}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self, name: Sequence[str], kind: RequestType, args: Sequence[Any] = ()) -> RpcStream:
        """Start a stream request of ours."""
        numbers: list[int] = []
        await self._call(lambda session: numbers.append(session.request(name, kind, args)))
        stream = self._streams[numbers[0]] = RpcStream(self, numbers[0])
        return stream

    async def abort(self, reason: Exception) -> None:
        """Hang up at once on a peer that broke the rules: close the secure stream (the peer
        sees the connection go) and mark this connection closed with ``reason``. Safe from
        inside a handler; whoever owns the connection still calls ``close`` to stop its tasks."""
        self._finish(reason)
        await self.stream.close()

    async def close(self) -> None:
        """Say goodbye and close the stream; stop the reader and every handler. Idempotent."""
        with contextlib.suppress(RpcProtocolError, TransportError):
            await self._call(lambda session: session.goodbye())
        for task in [*self._tasks, *([self._reader] if self._reader else [])]:
            task.cancel()
        for task in [*self._tasks, *([self._reader] if self._reader else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.stream.close()
        self._finish(None)

    async def _call(self, act: Callable[[RpcSession], object]) -> None:
        async with self._write_lock:
            act(self._session)
            data = self._session.data_to_send()
            if data:
                await self.stream.write(data)

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.stream.read()
                self._session.receive_data(data)
                while (event := self._session.next_event()) is not NEED_DATA:
                    if isinstance(event, Closed):
                        self._finish(None)
                        return
                    await self._route(event)
                await self._call(lambda session: None)  # answers the session queued on its own
                if not data:
                    self._finish(None)
                    return
        except (RpcProtocolError, TransportError) as exc:
            if self.closed.is_set():  # we hung up (abort): the reason is logged already
                return
            log.warning("dropping %s: %s", self.peer, exc)
            self._finish(exc)

    async def _route(self, event: object) -> None:
        if isinstance(event, Request):
            stream = self._streams[event.number] = RpcStream(self, event.number)
            task = asyncio.create_task(self._answer(stream, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(event, StreamData | StreamEnded | ErrorReceived | Response):
            target = self._streams.get(event.number)
            if target is not None:
                await target._inbox.put(event)

    async def _answer(self, stream: RpcStream, request: Request) -> None:
        try:
            await self._handler(stream, request)
        except (RpcProtocolError, TransportError, StreamFailed) as exc:
            log.info("request %s from %s ended: %s", "/".join(request.name), self.peer, exc)
        except Exception:
            log.exception("request %s from %s failed", "/".join(request.name), self.peer)
            with contextlib.suppress(RpcProtocolError, TransportError):
                await stream.fail("internal error")
        finally:
            # Nobody reads this stream any more: packets for it are dropped rather than fill
            # an inbox that would stop the reader (and so the whole connection).
            self._streams.pop(stream.number, None)

    def _finish(self, failure: Exception | None) -> None:
        if self.closed.is_set():
            return
        self.failure = failure
        self.closed.set()
        for stream in self._streams.values():
            try:
                stream._inbox.put_nowait(None)
            except asyncio.QueueFull:  # its reader is behind: it hears of the end after the rest
                task = asyncio.create_task(stream._inbox.put(None))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
