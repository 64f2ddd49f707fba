"""The browser harness works: Chromium opens a real node's page, and the session loop of the
other tests keeps running beside Playwright."""

from __future__ import annotations

import asyncio

from playwright.sync_api import ConsoleMessage, Page

from ..conftest import FakeClock
from .conftest import RunnerBesidePlaywright


def test_the_home_page_opens_in_chromium(page: Page, weft_server: str) -> None:
    problems: list[str] = []
    page.on("console", lambda message: _keep_errors(message, problems))
    page.on("pageerror", lambda error: problems.append(str(error)))

    response = page.goto(f"{weft_server}/")

    assert response is not None and response.ok
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert page.title() == "Recent posts · weft"  # the front page of the web app
    assert page.locator("main").count() == 1
    assert page.get_by_role("main").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "weft"
    assert page.get_by_role("link", name="Skip to content").get_attribute("href") == "#main"
    # Chromium enforced the policy and blocked nothing, the page's own stylesheet included
    # (a CSP violation is reported on the console).
    assert problems == []


def _keep_errors(message: ConsoleMessage, problems: list[str]) -> None:
    # Chromium asks for /favicon.ico of its own accord; the page links none, so its 404 is
    # no fault of the page.
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        problems.append(f"{message.text} ({message.location['url']})")


def test_cookies_do_not_leak_into_the_next_test_s_page(page: Page, weft_server: str) -> None:
    page.goto(f"{weft_server}/")
    assert page.context.cookies() == []
    page.context.add_cookies([{"name": "session", "value": "x", "url": weft_server}])
    assert [cookie["name"] for cookie in page.context.cookies()] == ["session"]


def test_a_new_page_starts_without_them(page: Page, weft_server: str) -> None:
    page.goto(f"{weft_server}/")
    assert page.context.cookies() == []


def test_a_browser_test_can_still_run_the_session_loop(page: Page,
                                                       runner: RunnerBesidePlaywright) -> None:
    page.set_content("<main><h1>before</h1></main>")
    assert runner.run(_on_the_loop(21)) == 42
    page.set_content("<main><h1>after</h1></main>")  # Playwright goes on afterwards
    assert page.get_by_role("heading").inner_text() == "after"


async def _on_the_loop(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


async def test_async_tests_run_after_browser_tests(clock: FakeClock) -> None:
    # Before the harness set Playwright's loop mark aside, this failed with "Cannot run the
    # event loop while another loop is running" (and so did every async test after it).
    await asyncio.sleep(0)
    assert asyncio.get_running_loop().is_running()
    assert clock() == FakeClock.START_MS
