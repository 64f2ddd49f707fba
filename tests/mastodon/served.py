"""A node with its Site and the client API, served by uvicorn in a thread of its own.

Mastodon.py is synchronous (requests): called from the session loop, it would block the
server it talks to. So the server gets a thread and an event loop of its own, and the
tests are plain ``def`` tests; they reach the node through :meth:`Served.run`, which runs
a coroutine on the server's loop (database connections belong to the loop that made them).

    with serve(make_config("n")) as served:
        alice = served.run(served.site.accounts.sign_up("alice", PASSWORD))
        api = Mastodon(..., api_base_url=served.url)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, TypeVar

import uvicorn

from weft.api import create_app
from weft.config import NodeConfig
from weft.node import Node, system_clock
from weft.site import Limits, Site

T = TypeVar("T")
START_S = 30.0
STOP_S = 30.0


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class Served:
    """A running site: its URL, its Site, and its event loop."""

    url: str
    site: Site
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop and return what it returns."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)


@contextlib.contextmanager
def serve(config: NodeConfig, *, clock: Callable[[], int] = system_clock,
          limits: Limits | None = None) -> Iterator[Served]:
    """Serve ``create_app(node, site=...)`` on a free loopback port until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def main() -> None:
        async with Node.open(config, clock=clock) as node:
            # Rate limits off unless a test brings its own: many tests log in from one address.
            site = Site.for_node(node, url, environ={"WEFT_RATE_LIMITS": "off"})
            if limits is not None:
                site.limits = limits
            server = _Server(uvicorn.Config(create_app(node, site=site), log_level="warning", lifespan="off"))
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started and not task.done():
                await asyncio.sleep(0.01)
            found.update(site=site, server=server, loop=asyncio.get_running_loop())
            ready.set()
            await task

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="weft-site") as pool:
        running = pool.submit(asyncio.run, main())
        running.add_done_callback(lambda _: ready.set())
        if not ready.wait(START_S) or not found.get("server") or not found["server"].started:
            sock.close()
            running.result(timeout=STOP_S)  # raises what stopped it
            raise RuntimeError("the site did not start")
        served = Served(url, found["site"], found["loop"])
        try:
            yield served
        finally:
            served.loop.call_soon_threadsafe(setattr, found["server"], "should_exit", True)
            running.result(timeout=STOP_S)
            sock.close()


class Form(HTMLParser):
    """The first form of a page as a browser sees it: where it posts, its fields, its buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, list[str]] = {}
        self._inside = False
        self._done = False
        self.feed(html)
        if self.action is None:
            raise AssertionError(f"no form on the page:\n{html}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._done:
            self.action = values.get("action", "")
            self._inside = True
        elif self._inside and tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")
        elif self._inside and tag == "button" and "name" in values:
            self.buttons.setdefault(values["name"], []).append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside = False
            self._done = True

    def submit(self, **values: str) -> dict[str, str]:
        """The data the browser sends with ``values`` typed in (a button is one of them)."""
        for name, value in values.items():
            if name in self.buttons and value not in self.buttons[name]:
                raise AssertionError(f"the form has no {name}={value} button")
        return {**self.fields, **values}
