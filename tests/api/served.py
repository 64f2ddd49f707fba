"""A node served in-process as ``weft serve`` assembles it, on a free loopback port, on the
session loop, for ``async def`` tests that talk to it with httpx:

    async with serving(make_config("n"), clock=clock) as served:
        async with served.client() as client:
            ...

Unlike tests/web/site_server.py, the node may run on a test's clock (so posts can expire
without the test sleeping), and with ``gossip=True`` it listens for peers as well, so that
``/api/node`` names a real gossip port and key and the app carries the gossip WebSocket.
The test holds the app too, to walk its routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute, WebSocketRoute

from weft import web
from weft.api import create_app
from weft.config import NodeConfig
from weft.node import Node, system_clock
from weft.site import Site
from weft.sync.websocket import GOSSIP_PATH, gossip_endpoint


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class Served:
    """A running node: its Site (node and accounts), its app, its base URL."""

    site: Site
    app: Starlette
    url: str

    @property
    def node(self) -> Node:
        return self.site.node

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30)


def _bound() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(config: NodeConfig, *, clock: Callable[[], int] = system_clock,
                  gossip: bool = False) -> AsyncIterator[Served]:
    """Serve a node on ``config`` until the block ends (rate limits off)."""
    http_sock = _bound()
    url = f"http://127.0.0.1:{http_sock.getsockname()[1]}"
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(http_sock.close)
        node = await stack.enter_async_context(Node.open(config, clock=clock))
        site = Site.for_node(node, url, environ={"WEFT_RATE_LIMITS": "off"})
        routes: list[BaseRoute] = []
        info: dict[str, Any] | None = None
        if gossip:
            gossip_sock = _bound()
            stack.callback(gossip_sock.close)
            gossip_sock.listen()
            service = node.sync_service(hops=1)
            listener = await service.listen_on(gossip_sock)
            stack.push_async_callback(listener.wait_closed)
            stack.callback(listener.close)
            info = {"key": node.transport_key().did, "port": gossip_sock.getsockname()[1]}
            routes.append(WebSocketRoute(GOSSIP_PATH, gossip_endpoint(
                service.serve_stream, signing_key=node.transport_key(), network_key=service.network_key)))
        app = create_app(node, gossip=info, extra_routes=[*routes, *web.routes(site)], site=site)
        server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[http_sock]))
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        try:
            yield Served(site, app, url)
        finally:
            server.should_exit = True
            await task
