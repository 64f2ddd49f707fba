"""Fixtures of the browser tests: Debian's Chromium, a page, and a real ``weft serve``.

``browser`` (session) is /usr/bin/chromium, headless, launched once through Playwright. It is
the system's Chromium, never one Playwright downloads (``make test`` installs it with
apt-get); if it is missing, the tests fail and say so, they do not skip. ``page`` (per test)
is a page in a browser context of its own, so cookies and storage do not leak between tests.
``weft_server`` (per test) is the base URL of a ``weft serve`` subprocess on a free loopback
port, with a fresh data directory whose operator is called "Operator".

Write browser tests as plain ``def`` tests with Playwright's sync API::

    def test_the_feed_shows_the_operator(page: Page, weft_server: str) -> None:
        page.goto(weft_server)
        ...

Playwright's sync API beside the session loop
---------------------------------------------
The sync API runs an asyncio loop of its own in a greenlet, and between two calls it leaves
this thread marked as running that loop (``asyncio._get_running_loop()``). While the mark is
there, the session loop of tests/conftest.py cannot run: every ``async def`` test, and every
``runner.run(...)``, would fail with "Cannot run the event loop while another loop is
running" for the rest of the session. So the mark is set aside whenever Playwright is not in
use: ``_playwright_in_use`` puts it back for the tests that use the browser and sets it aside
after each, and ``runner`` here sets it aside while the session loop runs, so that a browser
test can still call ``runner.run(...)`` and use fixtures built on it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ..cli.program import WEFT, weft, weft_env

if TYPE_CHECKING:
    from ..conftest import SessionLoop

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SERVER_START_S = 20.0
SERVER_STOP_S = 20.0


class PlaywrightLoopMark:
    """Sets aside, and puts back, this thread's mark that Playwright's loop is running."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def put_back(self) -> None:
        if self.loop is not None and asyncio._get_running_loop() is None:
            asyncio._set_running_loop(self.loop)

    def set_aside(self) -> None:
        if self.loop is not None and asyncio._get_running_loop() is self.loop:
            asyncio._set_running_loop(None)

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Without the mark for the time of the block, and with it again after (if it was there)."""
        marked = self.loop is not None and asyncio._get_running_loop() is self.loop
        self.set_aside()
        try:
            yield
        finally:
            if marked:
                self.put_back()


@pytest.fixture(scope="session")
def _playwright_mark() -> PlaywrightLoopMark:
    return PlaywrightLoopMark()


@pytest.fixture(scope="session")
def browser(_playwright_mark: PlaywrightLoopMark) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session (see the module docstring)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's chromium, not a "
                    f"downloaded one; run make test, which installs Debian's chromium",
                    pytrace=False)
    playwright = sync_playwright().start()
    _playwright_mark.loop = asyncio._get_running_loop()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        _playwright_mark.put_back()
        try:
            chromium.close()
        finally:
            playwright.stop()
            _playwright_mark.set_aside()
            _playwright_mark.loop = None


@pytest.fixture(autouse=True)
def _playwright_in_use(request: pytest.FixtureRequest,
                       _playwright_mark: PlaywrightLoopMark) -> Iterator[None]:
    """Playwright's loop mark, there for the tests that use the browser and only for them."""
    if "browser" not in request.fixturenames:
        yield
        return
    if inspect.iscoroutinefunction(request.function):
        pytest.fail("browser tests are plain `def` tests: Playwright's sync API cannot be used "
                    "while the session loop runs an `async def` test", pytrace=False)
    request.getfixturevalue("browser")
    _playwright_mark.put_back()
    try:
        yield
    finally:
        _playwright_mark.set_aside()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context: no cookies or storage from other tests."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


class RunnerBesidePlaywright:
    """The session loop's runner, which sets Playwright's mark aside while it runs."""

    def __init__(self, runner: SessionLoop, mark: PlaywrightLoopMark) -> None:
        self._runner = runner
        self._mark = mark

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end on the session loop and return its result."""
        with self._mark.aside():
            return self._runner.run(coro)


@pytest.fixture(scope="session")
def runner(runner: SessionLoop, _playwright_mark: PlaywrightLoopMark) -> RunnerBesidePlaywright:
    """The session loop (tests/conftest.py), usable in browser tests too."""
    return RunnerBesidePlaywright(runner, _playwright_mark)


# -- a real weft serve -------------------------------------------------------------------


def free_port() -> int:
    """A loopback port free a moment ago (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def weft_server(tmp_path: Path) -> Iterator[str]:
    """The base URL of a ``weft serve`` on loopback with a fresh data directory.

    Its output goes to ``tmp_path/serve.log`` (a pipe nobody reads would fill up and stall
    the server); the log is shown if the server fails to start, and a traceback in it fails
    the test, since the browser would not show one.
    """
    data = tmp_path / "node"
    weft("init", "--name", "Operator", data=data)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*WEFT, "serve", "--host", "127.0.0.1", "--port", str(port), "--gossip-port", "0",
             "--no-lan", "--data", str(data)],
            stdout=log, stderr=subprocess.STDOUT, env=weft_env())
    try:
        _wait_until_answering(process, url, log_path)
        yield url
    finally:
        code = _stop(process)
        output = log_path.read_text(errors="replace")
    if code != 0 or "Traceback" in output:
        pytest.fail(f"weft serve exited with {code}:\n{output}", pytrace=False)


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    with httpx.Client(base_url=url, timeout=2) as client:
        while True:
            if process.poll() is not None:
                pytest.fail(f"weft serve exited with {process.returncode} before it answered:\n"
                            f"{log_path.read_text(errors='replace')}", pytrace=False)
            try:
                if client.get("/api/node").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"weft serve did not answer GET {url}/api/node within "
                            f"{SERVER_START_S:.0f} s:\n{log_path.read_text(errors='replace')}",
                            pytrace=False)
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Stop the server as a service manager would (SIGTERM), killing it if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
