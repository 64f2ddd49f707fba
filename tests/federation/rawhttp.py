"""A bare HTTP/1.1 server on 127.0.0.1 for tests of outgoing requests, written on asyncio
streams so that a test can misbehave as a hostile server would (trickle, never answer, send
without end) and can see every request and connection exactly as it arrived.

    async def respond(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, {"content-type": "text/plain"}, b"hi"))

    async with raw_server(respond) as server:
        ... server.url("/path"), server.seen, server.connections ...
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Seen:
    """One request as the server read it (header names lower-cased)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Respond = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """The running server: its port, the requests it read, the connections it accepted."""

    port: int = 0
    scheme: str = "http"
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def reply(status: int, headers: Mapping[str, str] | None = None, body: bytes = b"") -> bytes:
    """A whole response with a Content-Length (unless the headers name a length already)."""
    lines = [f"HTTP/1.1 {status} X"]
    fields = {"content-length": str(len(body)), **(headers or {})}
    lines += [f"{name}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_request(reader: asyncio.StreamReader) -> Seen:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ")
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Seen(method, target, headers, body)


@contextlib.asynccontextmanager
async def raw_server(respond: Respond, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[RawServer]:
    """Serve ``respond`` on a free loopback port until the block ends; connections still
    open then (a response that never ends) are cut."""
    server = RawServer(scheme="https" if tls else "http")
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        server.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                server.seen.append(request)
                await respond(request, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await listener.wait_closed()
