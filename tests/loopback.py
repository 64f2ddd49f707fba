"""An ASGI app served by uvicorn on a free loopback port, on the running loop, for tests:

    async with serve_on_loopback(app) as port:
        ...

uvicorn's signal handlers are left out: Ctrl-C belongs to pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_on_loopback(app: Any, **config: Any) -> AsyncIterator[int]:
    """Serve ``app`` until the block ends; yields the port. ``config`` goes to uvicorn.Config."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off", **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()
