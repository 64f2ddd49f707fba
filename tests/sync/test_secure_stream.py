"""Secure streams over asyncio: real loopback TCP, and an in-memory carrier for the corners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from weft.core.keys import did_key
from weft.errors import BoxStreamError, HandshakeFailed, TransportClosed
from weft.sync.secure_stream import (
    SecureStream,
    StreamHandler,
    TcpCarrier,
    client_handshake,
    connect,
    serve,
    server_handshake,
)
from weft.sync.shs import SCUTTLEBUTT_NETWORK_KEY

from .peers import CLIENT, SERVER, STRANGER

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def listening(handler: StreamHandler, **options: Any) -> AsyncIterator[int]:
    """A secure-stream server on a free loopback port; yields the port."""
    server = await serve(handler, HOST, 0, signing_key=SERVER, **options)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def read_all(stream: SecureStream) -> bytes:
    chunks = []
    while chunk := await stream.read():
        chunks.append(chunk)
    return b"".join(chunks)


async def within(awaitable: Any, seconds: float = 5.0) -> Any:
    return await asyncio.wait_for(awaitable, seconds)


# -- over TCP -------------------------------------------------------------------


async def test_two_peers_talk_over_tcp_and_part_with_goodbye() -> None:
    server_saw: asyncio.Future[tuple[bytes, bytes]] = asyncio.get_running_loop().create_future()

    async def shout_back(stream: SecureStream) -> None:
        heard = await stream.read()
        await stream.write(heard.upper())
        server_saw.set_result((stream.peer_public_key, await read_all(stream)))

    async with listening(shout_back) as port:
        stream = await connect(HOST, port, signing_key=CLIENT, server_public_key=SERVER.public_key)
        assert stream.peer_public_key == SERVER.public_key
        assert stream.peer_did == did_key(SERVER.public_key)
        await stream.write(b"hello")
        assert await within(stream.read()) == b"HELLO"
        await stream.close()
        assert await within(server_saw) == (CLIENT.public_key, b"")  # goodbye: a clean end
        await stream.close()  # closing twice is harmless


async def test_a_large_write_crosses_in_many_frames_and_comes_back_whole() -> None:
    async def echo(stream: SecureStream) -> None:
        while chunk := await stream.read():
            await stream.write(chunk)

    payload = bytes(range(256)) * 1000
    async with listening(echo) as port:
        stream = await connect(HOST, port, signing_key=CLIENT, server_public_key=SERVER.public_key)
        async with stream:
            await stream.write(payload)
            received = b""
            while len(received) < len(payload):
                received += await within(stream.read())
        assert received == payload


async def test_scuttlebutts_network_key_works_when_both_sides_use_it() -> None:
    async def greet(stream: SecureStream) -> None:
        await stream.write(b"hi from the other network")

    async with listening(greet, network_key=SCUTTLEBUTT_NETWORK_KEY) as port:
        stream = await connect(HOST, port, signing_key=CLIENT, server_public_key=SERVER.public_key,
                               network_key=SCUTTLEBUTT_NETWORK_KEY)
        async with stream:
            assert await within(read_all(stream)) == b"hi from the other network"


async def refusal(client_options: dict[str, Any], server_options: dict[str, Any]
                  ) -> tuple[HandshakeFailed, HandshakeFailed]:
    """(what the client was told, why the server refused) for a handshake that must fail."""
    refused: asyncio.Future[HandshakeFailed] = asyncio.get_running_loop().create_future()

    async def never(stream: SecureStream) -> None:
        raise AssertionError("the handshake should have failed")

    async with listening(never, on_handshake_failure=refused.set_result, **server_options) as port:
        with pytest.raises(HandshakeFailed) as caught:
            await connect(HOST, port, signing_key=CLIENT, **client_options)
        return caught.value, await within(refused)


async def test_a_server_refuses_a_client_on_another_network_and_the_client_is_told() -> None:
    client_saw, server_saw = await refusal(
        {"server_public_key": SERVER.public_key, "network_key": SCUTTLEBUTT_NETWORK_KEY}, {})
    assert server_saw.code == "wrong_network_key"
    assert client_saw.code == "peer_closed"
    assert "0 of the 64 bytes of msg2" in str(client_saw)


async def test_a_client_that_dialled_another_key_is_refused() -> None:
    client_saw, server_saw = await refusal({"server_public_key": STRANGER.public_key}, {})
    assert server_saw.code == "bad_client_auth"
    assert client_saw.code == "peer_closed"
    assert "msg4" in str(client_saw)


async def test_a_silent_server_times_the_handshake_out() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, HOST, 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HandshakeFailed, match=r"^timeout: .* \(waiting for msg2"):
            await connect(HOST, port, signing_key=CLIENT, server_public_key=SERVER.public_key,
                          timeout=0.2)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_silent_client_times_the_handshake_out_on_the_server() -> None:
    refused: asyncio.Future[HandshakeFailed] = asyncio.get_running_loop().create_future()

    async def never(stream: SecureStream) -> None:
        raise AssertionError("the handshake should have failed")

    async with listening(never, timeout=0.2, on_handshake_failure=refused.set_result) as port:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            assert (await within(refused)).code == "timeout"
            assert await within(reader.read()) == b""  # the server hung up without a word
        finally:
            writer.close()
            await writer.wait_closed()


async def test_a_peer_that_vanishes_without_goodbye_ends_the_servers_handler_quietly(
        caplog: pytest.LogCaptureFixture) -> None:
    ended: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def listen(stream: SecureStream) -> None:
        try:
            await stream.read()
        except BoxStreamError as exc:
            ended.set_result(exc)
            raise

    with caplog.at_level(logging.INFO, logger="weft.sync.secure_stream"):
        async with listening(listen) as port:
            reader, writer = await asyncio.open_connection(HOST, port)
            await client_handshake(TcpCarrier(reader, writer), signing_key=CLIENT,
                                   server_public_key=SERVER.public_key)
            writer.close()  # no goodbye
            await writer.wait_closed()
            failure = await within(ended)
    assert isinstance(failure, BoxStreamError) and failure.code == "truncated"
    assert any("ended: truncated" in message for message in caplog.messages)


async def test_connecting_to_a_closed_port_is_an_os_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(OSError):
        await connect(HOST, port, signing_key=CLIENT, server_public_key=SERVER.public_key)


# -- over an in-memory carrier ------------------------------------------------------


class MemoryCarrier:
    """One end of an in-memory byte pipe; a read takes everything that has arrived."""

    def __init__(self) -> None:
        self.inbox = bytearray()
        self.eof = False
        self.closed = False
        self.peer: MemoryCarrier = self
        self._arrived = asyncio.Event()

    async def read(self) -> bytes:
        while not self.inbox and not self.eof:
            self._arrived.clear()
            await self._arrived.wait()
        data = bytes(self.inbox)
        self.inbox.clear()
        return data

    async def write(self, data: bytes) -> None:
        if self.closed or self.peer.closed:
            raise ConnectionResetError("the memory link is closed")
        self.peer.inbox += data
        self.peer._arrived.set()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.peer.eof = True
            self.peer._arrived.set()


def memory_link() -> tuple[MemoryCarrier, MemoryCarrier]:
    a, b = MemoryCarrier(), MemoryCarrier()
    a.peer, b.peer = b, a
    return a, b


async def memory_streams() -> tuple[SecureStream, SecureStream, MemoryCarrier, MemoryCarrier]:
    client_end, server_end = memory_link()
    server_task = asyncio.create_task(server_handshake(server_end, signing_key=SERVER))
    client = await client_handshake(client_end, signing_key=CLIENT,
                                    server_public_key=SERVER.public_key)
    return client, await server_task, client_end, server_end


async def test_any_carrier_will_do() -> None:
    client, server, _, _ = await memory_streams()
    await client.write(b"ping")
    assert await server.read() == b"ping"
    await server.write(b"pong")
    assert await client.read() == b"pong"
    await client.close()
    assert await server.read() == b""


async def test_data_that_arrives_with_the_last_handshake_message_is_not_lost() -> None:
    client_end, server_end = memory_link()

    async def eager_server() -> None:
        stream = await server_handshake(server_end, signing_key=SERVER)
        await stream.write(b"straight after msg4")  # before the client has read msg4

    server_task = asyncio.create_task(eager_server())
    client = await client_handshake(client_end, signing_key=CLIENT,
                                    server_public_key=SERVER.public_key)
    await server_task
    assert await client.read() == b"straight after msg4"


async def test_a_side_that_said_goodbye_still_hears_the_rest() -> None:
    client, server, _, _ = await memory_streams()
    await client.end_writing()
    await client.end_writing()  # once is enough; twice is harmless
    with pytest.raises(TransportClosed):
        await client.write(b"after goodbye")
    assert await server.read() == b""
    await server.write(b"last words")
    await server.close()
    assert await client.read() == b"last words"
    assert await client.read() == b""
    await client.close()


async def test_tampering_on_the_carrier_is_caught() -> None:
    client, _, client_end, _ = await memory_streams()
    client_end.inbox += bytes(34)
    client_end.eof = True
    with pytest.raises(BoxStreamError, match=r"^tampered_header"):
        await client.read()


async def test_a_carrier_that_closes_without_goodbye_is_truncation() -> None:
    client, _, _, server_end = await memory_streams()
    await server_end.close()
    with pytest.raises(BoxStreamError, match=r"^truncated"):
        await client.read()


async def test_a_closed_stream_can_neither_read_nor_write() -> None:
    client, server, _, _ = await memory_streams()
    await client.close()
    with pytest.raises(TransportClosed):
        await client.write(b"late")
    with pytest.raises(TransportClosed):
        await client.read()
    assert await server.read() == b""
    await server.close()
