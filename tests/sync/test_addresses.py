"""Peer addresses: what people type, and what a peer's web face may answer."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from weft.errors import UsageError, WeftError
from weft.sync.addresses import parse_address, resolve_address

KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.mark.parametrize(("text", "parsed"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080, None)),
    ("example.org:8008~" + KEY, ("example.org", 8008, KEY)),
    ("[::1]:9000", ("::1", 9000, None)),
])
def test_addresses_people_write(text: str, parsed: tuple[str, int, str | None]) -> None:
    assert parse_address(text) == parsed


@pytest.mark.parametrize("text", ["", "host", "host:0", "host:70000", "a b:80", "host:80~did:key:zzz0",
                                  "host:80~did:web:x", "x" * 5000])
def test_anything_else_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_address(text)


@contextlib.asynccontextmanager
async def web_face(body: bytes) -> AsyncIterator[str]:
    async def node(_request: object) -> Response:
        return Response(body, media_type="application/json")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/api/node", node)]),
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.mark.parametrize(("body", "problem"), [
    (b'{"did": "x", "gossip": {"key": "%s", "port": 8008}}' % KEY.encode(), None),
    (b'{"did": "x", "gossip": null}', "did not name a gossip port"),
    (b"not json", "did not name a gossip port"),
    (b'{"gossip": {"key": "did:key:zzz", "port": 1}}', "did not name a gossip port"),
    (b"[" * 200_000, "larger than"),
])
async def test_a_web_face_answer_is_read_with_care(body: bytes, problem: str | None) -> None:
    async with web_face(body) as address:
        if problem is None:
            found = await resolve_address(address)
            assert (found.port, found.key) == (8008, KEY)
        else:
            with pytest.raises(WeftError, match=problem):
                await resolve_address(address)
