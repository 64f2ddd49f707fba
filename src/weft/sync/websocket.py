"""The secret handshake over a WebSocket on the node's HTTP port, for peers behind proxies
and NATs that pass web traffic and nothing else.

The WebSocket carries exactly the bytes TCP would (handshake, then box-stream) in binary
messages; message boundaries mean nothing. The server side is a Starlette WebSocket
endpoint that ``weft serve`` mounts at ``/api/gossip``; the client side uses the
``websockets`` library (already installed with uvicorn[standard]).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from weft.core.keys import SigningKey
from weft.errors import HandshakeFailed
from weft.sync.secure_stream import SecureStream, client_handshake, server_handshake
from weft.sync.shs import WEFT_NETWORK_KEY

__all__ = ["GOSSIP_PATH", "WebSocketClientCarrier", "WebSocketServerCarrier", "connect_websocket",
           "gossip_endpoint"]

log = logging.getLogger("weft.sync")

GOSSIP_PATH = "/api/gossip"
MAX_MESSAGE_BYTES = 1 << 20


class WebSocketServerCarrier:
    """A ByteCarrier over Starlette's server-side WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def read(self) -> bytes:
        try:
            return await self._websocket.receive_bytes()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            return b""  # a text frame or a close: the byte stream has ended

    async def write(self, data: bytes) -> None:
        try:
            await self._websocket.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise ConnectionError(f"the WebSocket closed: {exc}") from exc

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._websocket.close()


class WebSocketClientCarrier:
    """A ByteCarrier over a ``websockets`` client connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    async def read(self) -> bytes:
        try:
            message = await self._connection.recv()
        except ConnectionClosed:
            return b""
        return message if isinstance(message, bytes) else b""

    async def write(self, data: bytes) -> None:
        try:
            await self._connection.send(data)
        except ConnectionClosed as exc:
            raise ConnectionError(f"the WebSocket closed: {exc}") from exc

    async def close(self) -> None:
        await self._connection.close()


def gossip_endpoint(handle: Callable[[SecureStream], Awaitable[None]], *, signing_key: SigningKey,
                    network_key: bytes = WEFT_NETWORK_KEY) -> Callable[[WebSocket], Awaitable[None]]:
    """A Starlette WebSocket endpoint that runs the server handshake, then ``handle``."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        carrier = WebSocketServerCarrier(websocket)
        try:
            stream = await server_handshake(carrier, signing_key=signing_key, network_key=network_key)
        except HandshakeFailed as failure:
            log.info("refused a WebSocket peer from %s: %s", websocket.client, failure)
            return
        try:
            await handle(stream)
        finally:
            await stream.close()

    return endpoint


async def connect_websocket(url: str, *, signing_key: SigningKey, server_public_key: bytes,
                            network_key: bytes = WEFT_NETWORK_KEY) -> SecureStream:
    """Open ``ws://HOST:PORT/api/gossip`` and run the client handshake inside it."""
    connection = await ws_connect(url, max_size=MAX_MESSAGE_BYTES, compression=None)
    try:
        return await client_handshake(WebSocketClientCarrier(connection), signing_key=signing_key,
                                      server_public_key=server_public_key, network_key=network_key)
    except BaseException:
        await connection.close()
        raise
