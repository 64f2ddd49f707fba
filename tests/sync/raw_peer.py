"""A peer driven by hand from the real pieces: what a broken or hostile node can say.

It connects with the secret handshake, speaks muxrpc through ``RpcConnection``, opens the
replicate duplex and sends whatever clock, operations and batches a test crafts, while
it collects what the node sends back::

    async with RawPeer.connect(victim.port, victim.key) as peer:
        await peer.expect_clock(lambda clock: author.did in clock["ids"])
        await peer.send_clock()
        await peer.send_ops(author.ops)
        await peer.send_batch([entry, ...])
        await peer.hung_up()
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from weft.core.identity import IdentityOp
from weft.core.keys import SigningKey
from weft.sync.batches import decode_batch, encode_batch
from weft.sync.muxrpc import RpcLimits
from weft.sync.muxrpc_events import Request, RequestType
from weft.sync.muxrpc_packets import BodyType
from weft.sync.replication import REPLICATE
from weft.sync.rpc_connection import RpcConnection, RpcStream, StreamFailed
from weft.sync.secure_stream import connect
from weft.sync.shs import WEFT_NETWORK_KEY

from ..store.world import Signed, new_key

WAIT = 5.0


async def _refuse(stream: RpcStream, request: Request) -> None:
    await stream.fail("a raw peer answers nothing")


class RawPeer:
    def __init__(self, connection: RpcConnection, stream: RpcStream) -> None:
        self.connection = connection
        self.stream = stream
        self.messages: list[dict[str, Any]] = []           # JSON the node sent, in order
        self.entries: list[tuple[bytes, bytes | None]] = []  # entries the node sent, in order
        self.failure: str | None = None                      # how the node closed the stream
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, port: int, server_key: bytes, *, key: SigningKey | None = None,
                      max_body_bytes: int = 4 << 20) -> AsyncIterator[RawPeer]:
        """A replicate stream open with the node at 127.0.0.1:``port``. Our own frame limit is
        raised so that we can send what the node must refuse."""
        secure = await connect("127.0.0.1", port, signing_key=key or new_key(), server_public_key=server_key,
                               network_key=WEFT_NETWORK_KEY)
        async with RpcConnection(secure, _refuse, limits=RpcLimits(max_body_bytes=max_body_bytes)) as connection:
            peer = cls(connection, await connection.open(REPLICATE, RequestType.DUPLEX))
            try:
                yield peer
            finally:
                peer._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await peer._reader

    async def _read(self) -> None:
        try:
            async for packet in self.stream:
                if packet.body_type is BodyType.BINARY:
                    self.entries.extend((item.header, item.content) for item in decode_batch(bytes(packet.value)))
                else:
                    self.messages.append(packet.value)
                async with self._arrived:
                    self._arrived.notify_all()
        except StreamFailed as exc:
            self.failure = str(exc)
        async with self._arrived:
            self._arrived.notify_all()

    # -- what the node says ---------------------------------------------------------------

    async def expect(self, check: Callable[[RawPeer], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: check(self))

    async def expect_clock(self, check: Callable[[dict[str, Any]], bool], timeout: float = WAIT) -> None:
        """Wait for a clock from the node for which ``check(message["clock"])`` holds."""
        await self.expect(lambda peer: any(check(m["clock"]) for m in peer.messages if "clock" in m), timeout)

    async def hung_up(self, timeout: float = WAIT) -> None:
        """Wait until the node has closed the connection (it hangs up on a misbehaving peer)."""
        await asyncio.wait_for(self.connection.closed.wait(), timeout)

    # -- what we say ------------------------------------------------------------------------

    async def send_clock(self, ids: dict[str, str] | None = None, devs: dict[str, int] | None = None, *,
                         number: int = 1, full: bool = True, **extra: Any) -> None:
        await self.stream.send({"clock": {"ids": ids or {}, "devs": devs or {}}, "n": number, "epoch": "raw",
                                "full": full, **extra})

    async def send_ops(self, ops: Sequence[IdentityOp]) -> None:
        await self.stream.send({"ops": [base64.b64encode(op.raw).decode("ascii") for op in ops]})

    async def send_batch(self, entries: Sequence[Signed | tuple[bytes, bytes | None]]) -> None:
        await self.send_bytes(encode_batch([(item.entry.raw, item.content) if isinstance(item, Signed) else item
                                            for item in entries]))

    async def send_bytes(self, data: bytes) -> None:
        await self.stream.send(data, BodyType.BINARY)
