"""The secret handshake and box-stream inside a WebSocket on a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from weft.core.keys import SigningKey
from weft.errors import HandshakeFailed
from weft.sync.secure_stream import SecureStream
from weft.sync.websocket import GOSSIP_PATH, connect_websocket, gossip_endpoint

SERVER = SigningKey(bytes([7]) * 32)
CLIENT = SigningKey(bytes([8]) * 32)


async def echo(stream: SecureStream) -> None:
    while data := await stream.read():
        await stream.write(data.upper())


@contextlib.asynccontextmanager
async def web_server() -> AsyncIterator[str]:
    app = Starlette(routes=[WebSocketRoute(GOSSIP_PATH, gossip_endpoint(echo, signing_key=SERVER))])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}{GOSSIP_PATH}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_a_secure_stream_runs_inside_a_websocket() -> None:
    async with web_server() as url:
        stream = await connect_websocket(url, signing_key=CLIENT, server_public_key=SERVER.public_key)
        async with stream:
            assert stream.peer_public_key == SERVER.public_key
            big = b"weft " * 5000  # several box-stream frames, maybe several WebSocket messages
            await stream.write(big)
            received = b""
            while len(received) < len(big):
                received += await stream.read()
            assert received == big.upper()


async def test_a_client_expecting_another_key_is_refused() -> None:
    async with web_server() as url:
        with pytest.raises(HandshakeFailed):
            await connect_websocket(url, signing_key=CLIENT, server_public_key=CLIENT.public_key)
