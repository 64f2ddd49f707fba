"""Secure streams over asyncio: the secret handshake and box-stream on a byte carrier.

The protocol objects (``weft.sync.shs``, ``weft.sync.boxstream``) do no I/O; this module
moves their bytes. The carrier is a seam: anything with ``read``/``write``/``close`` (the
:class:`ByteCarrier` protocol) will do. TCP is the one carrier today (:class:`TcpCarrier`,
:func:`connect`, :func:`serve`); a WebSocket carrier on the node's HTTP port will plug into
:func:`client_handshake` and :func:`server_handshake` the same way.

A handshake that takes longer than its timeout fails with code ``timeout``; a failed
handshake closes the carrier without another byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Protocol

from weft.core.keys import SigningKey, did_key
from weft.errors import ConnectionLost, HandshakeFailed, TransportClosed, TransportError
from weft.sync.boxstream import BoxStreamDecoder, BoxStreamEncoder
from weft.sync.shs import (
    WEFT_NETWORK_KEY,
    ClientHandshake,
    HandshakeComplete,
    HandshakeFailure,
    ServerHandshake,
)

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "ByteCarrier",
    "SecureStream",
    "TcpCarrier",
    "client_handshake",
    "connect",
    "serve",
    "server_handshake",
]

DEFAULT_HANDSHAKE_TIMEOUT: Final = 10.0  # seconds; the handshake is 4 small messages
_READ_BYTES: Final = 65536

log = logging.getLogger(__name__)


class ByteCarrier(Protocol):
    """A reliable, ordered byte pipe to one peer (TCP today, a WebSocket later)."""

    async def read(self) -> bytes:
        """Some bytes, or b"" once the peer has closed. OSError if the connection broke."""
        ...

    async def write(self, data: bytes) -> None:
        """Send ``data`` (waiting while the peer is slow to take it). OSError if broken."""
        ...

    async def close(self) -> None:
        """Close the connection; never raises."""
        ...


class TcpCarrier:
    """A TCP connection as asyncio's reader/writer pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self) -> bytes:
        return await self._reader.read(_READ_BYTES)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


class SecureStream:
    """An authenticated, encrypted byte stream to one peer, made by a completed handshake.

    ``read`` returns each chunk of plaintext as it arrives and b"" once the peer has said
    goodbye; ``write`` sends; ``end_writing`` says goodbye but keeps reading until the
    peer's goodbye; ``close`` says goodbye and closes the carrier. The peer is
    ``peer_public_key`` (its long-term Ed25519 key), authenticated by the handshake.
    """

    def __init__(self, carrier: ByteCarrier, handshake: HandshakeComplete,
                 unused_data: bytes = b"") -> None:
        self.peer_public_key = handshake.peer_public_key
        self._carrier = carrier
        self._encoder = BoxStreamEncoder(handshake.keys.encrypt_key, handshake.keys.encrypt_nonce)
        self._decoder = BoxStreamDecoder(handshake.keys.decrypt_key, handshake.keys.decrypt_nonce)
        self._decoder.receive_data(unused_data)
        # Frames must reach the carrier in nonce order, and one reader owns the decoder.
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        self._closed = False

    @property
    def peer_did(self) -> str:
        """The peer's long-term key as a did:key."""
        return did_key(self.peer_public_key)

    async def read(self) -> bytes:
        """The next plaintext from the peer; b"" after its goodbye.

        BoxStreamError if the stream is tampered with or ends without goodbye;
        ConnectionLost if the carrier breaks.
        """
        async with self._read_lock:
            if self._closed:
                raise TransportClosed("read from a secure stream that was closed")
            while True:
                body = self._decoder.next_body()
                if body:
                    return body
                if self._decoder.ended:
                    return b""
                if body is None:
                    await self._receive()

    async def _receive(self) -> None:
        try:
            data = await self._carrier.read()
        except OSError as exc:
            raise ConnectionLost(f"the connection to {self.peer_did} broke: {exc}") from exc
        if data:
            self._decoder.receive_data(data)
        else:
            self._decoder.receive_eof()

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the peer. TransportClosed after close; ConnectionLost if broken."""
        async with self._write_lock:
            if self._closed or self._encoder.ended:
                raise TransportClosed("write to a secure stream that said goodbye")
            await self._send(self._encoder.encode(data))

    async def _send(self, frames: bytes) -> None:
        try:
            await self._carrier.write(frames)
        except OSError as exc:
            raise ConnectionLost(f"the connection to {self.peer_did} broke: {exc}") from exc

    async def end_writing(self) -> None:
        """Say goodbye: we send nothing more, but still read until the peer's goodbye."""
        async with self._write_lock:
            if not self._closed and not self._encoder.ended:
                await self._send(self._encoder.goodbye())

    async def close(self) -> None:
        """Say goodbye (if the connection still takes it) and close the carrier. Idempotent."""
        async with self._write_lock:
            if self._closed:
                return
            self._closed = True
            if not self._encoder.ended:
                with contextlib.suppress(ConnectionLost):
                    await self._send(self._encoder.goodbye())
            await self._carrier.close()

    async def __aenter__(self) -> SecureStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


async def _run_handshake(carrier: ByteCarrier, handshake: ClientHandshake | ServerHandshake,
                         timeout: float) -> SecureStream:
    try:
        async with asyncio.timeout(timeout):
            while handshake.result is None:
                outgoing = handshake.data_to_send()
                if outgoing:
                    await carrier.write(outgoing)
                data = await carrier.read()
                if data:
                    handshake.receive_data(data)
                else:
                    handshake.receive_eof()
            # The server's last message (msg4) is queued by the step that completes it.
            outgoing = handshake.data_to_send()
            if outgoing:
                await carrier.write(outgoing)
    except TimeoutError:
        failure = HandshakeFailed(HandshakeFailure.TIMEOUT.value,
                                  f"{HandshakeFailure.TIMEOUT.value}: the handshake took longer "
                                  f"than {timeout} s (waiting for {handshake.state.value})")
        handshake.fail(failure)
        await carrier.close()
        raise failure from None
    except OSError as exc:
        failure = HandshakeFailed(HandshakeFailure.PEER_CLOSED.value,
                                  f"{HandshakeFailure.PEER_CLOSED.value}: the connection broke "
                                  f"during the handshake: {exc}")
        handshake.fail(failure)
        await carrier.close()
        raise failure from exc
    except BaseException:
        await carrier.close()
        raise
    return SecureStream(carrier, handshake.result, handshake.unused_data)


async def client_handshake(carrier: ByteCarrier, *, signing_key: SigningKey,
                           server_public_key: bytes, network_key: bytes = WEFT_NETWORK_KEY,
                           timeout: float = DEFAULT_HANDSHAKE_TIMEOUT) -> SecureStream:
    """Run the client side over ``carrier``: a SecureStream to the server, or HandshakeFailed.

    A server on another network key, or holding another long-term key than
    ``server_public_key``, just closes the connection: that arrives as ``peer_closed``.
    """
    handshake = ClientHandshake(network_key=network_key, signing_key=signing_key,
                                server_public_key=server_public_key)
    return await _run_handshake(carrier, handshake, timeout)


async def server_handshake(carrier: ByteCarrier, *, signing_key: SigningKey,
                           network_key: bytes = WEFT_NETWORK_KEY,
                           timeout: float = DEFAULT_HANDSHAKE_TIMEOUT) -> SecureStream:
    """Run the server side over ``carrier``: a SecureStream to whoever the client proved to be."""
    handshake = ServerHandshake(network_key=network_key, signing_key=signing_key)
    return await _run_handshake(carrier, handshake, timeout)


async def connect(host: str, port: int, *, signing_key: SigningKey, server_public_key: bytes,
                  network_key: bytes = WEFT_NETWORK_KEY,
                  timeout: float = DEFAULT_HANDSHAKE_TIMEOUT) -> SecureStream:
    """Dial ``host:port`` over TCP and run the handshake; ``timeout`` covers both.

    OSError (TimeoutError among them) if the connection cannot be made; HandshakeFailed if
    the handshake fails.
    """
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port)
    return await client_handshake(TcpCarrier(reader, writer), signing_key=signing_key,
                                  server_public_key=server_public_key,
                                  network_key=network_key, timeout=timeout)


StreamHandler = Callable[[SecureStream], Awaitable[None]]
HandshakeFailureHandler = Callable[[HandshakeFailed], None]


async def serve(handler: StreamHandler, host: str | None, port: int | None, *, signing_key: SigningKey,
                network_key: bytes = WEFT_NETWORK_KEY,
                timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
                on_handshake_failure: HandshakeFailureHandler | None = None,
                sock: socket.socket | None = None) -> asyncio.Server:
    """Listen on ``host:port`` (or on ``sock``, already bound and listening: ``weft serve``
    binds first, so that a port in use is a one-line error); run ``handler`` with a
    SecureStream for each peer that passes.

    Connections that fail the handshake are closed and logged (and passed to
    ``on_handshake_failure``): strangers on other networks knock all the time. The stream is
    closed when ``handler`` returns; transport errors inside it end that connection only.
    """
    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        carrier = TcpCarrier(reader, writer)
        try:
            stream = await server_handshake(carrier, signing_key=signing_key,
                                            network_key=network_key, timeout=timeout)
        except HandshakeFailed as failure:
            log.info("refused a connection from %s: %s", writer.get_extra_info("peername"), failure)
            if on_handshake_failure is not None:
                on_handshake_failure(failure)
            return
        try:
            await handler(stream)
        except TransportError as exc:
            log.info("connection with %s ended: %s", stream.peer_did, exc)
        finally:
            await stream.close()

    if sock is not None:
        return await asyncio.start_server(on_connection, sock=sock)
    return await asyncio.start_server(on_connection, host, port)
