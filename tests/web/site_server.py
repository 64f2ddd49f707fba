"""The web app served in-process: a node, its Site and ``create_app`` under uvicorn on a free
loopback port, on the session loop, for ``async def`` tests that talk to it with httpx.

    async with serving(make_config("n")) as running:
        async with running.client() as client:
            ...

Unlike ``weft_server`` (a subprocess), the test holds the node and the Site: it can give
the Site small rate limits and look at what the pages wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Generator, Mapping
from dataclasses import dataclass

import httpx
import uvicorn

from weft.api import create_app
from weft.cli.serve import close_site, site_routes
from weft.config import NodeConfig
from weft.node import Node
from weft.site import Limits, Site

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class RunningSite:
    """A web app being served: its Site (node and accounts) and base URL."""

    site: Site
    url: str

    @property
    def node(self) -> Node:
        return self.site.node

    def client(self) -> httpx.AsyncClient:
        """A client that keeps cookies, as a browser does, and does not follow redirects."""
        return httpx.AsyncClient(base_url=self.url, timeout=30)


@contextlib.asynccontextmanager
async def serving(config: NodeConfig, *, limits: Limits | None = None,
                  environ: Mapping[str, str] | None = None,
                  public_url: str | None = None, port: int = 0) -> AsyncIterator[RunningSite]:
    """Serve the web app of a node on ``config`` until the block ends; ``public_url`` is
    the Site's base URL (default: the loopback address it is served at)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with Node.open(config) as node:
            site = Site.for_node(node, public_url or url, environ=environ or {})
            if limits is not None:
                site.limits = limits
            app = create_app(node, site=site, extra_routes=site_routes(site, environ or {}))
            server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
            try:
                yield RunningSite(site, url)
            finally:
                server.should_exit = True
                await task
                await close_site(site)
    finally:
        sock.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found is not None, html
    return found.group(1)


async def form_page(client: httpx.AsyncClient, path: str) -> str:
    """GET a page with a form (setting any cookie it sends) and return its CSRF token."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def sign_up(client: httpx.AsyncClient, username: str, password: str = "a fine password",
                  **fields: str) -> httpx.Response:
    """Fill in and send the sign-up form as a browser would."""
    token = await form_page(client, "/auth/sign_up")
    return await client.post("/auth/sign_up", data={
        "csrf": token, "username": username, "password": password, "password_again": password,
        **fields})


async def sign_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = await form_page(client, "/auth/sign_in")
    return await client.post("/auth/sign_in", data={"csrf": token, "name": name, "password": password})
