"""A forgotten password, end to end: ``weft serve`` configured with a real SMTP server on
loopback (aiosmtpd), the mail that arrives, its link, a new password, and signing in."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from weft.config import NodeConfig

from ..cli.program import start, weft
from ..test_mail import Collector, closed_port, run_server
from .conftest import free_port
from .site_server import form_page, serving

PASSWORD = "a fine password"
PUBLIC_URL = "http://weft.test"  # not https: the cookies would be Secure, and httpx here speaks http
MAIL_WAIT_S = 30.0
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on 127.0.0.1 that keeps every mail: (what it received, its port)."""
    with run_server(Collector()) as server:
        yield server


def serve(data: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``weft serve`` on a free loopback port: (process, the URL it prints)."""
    process = start(("serve", "--port", str(free_port()), "--gossip-port", "0", "--no-lan"), data, env)
    assert process.stdout is not None
    for line in process.stdout:
        if " at http://" in line:
            return process, line.rsplit(" at ", 1)[1].strip().rstrip("/")
    process.kill()
    pytest.fail(f"weft serve exited early: {process.communicate()[1]}", pytrace=False)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return err


def form(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def wait_for_mail(collector: Collector) -> None:
    deadline = time.monotonic() + MAIL_WAIT_S
    while not collector.envelopes:
        if time.monotonic() > deadline:
            pytest.fail(f"no mail arrived within {MAIL_WAIT_S:.0f} s", pytrace=False)
        time.sleep(0.05)


def test_a_forgotten_password_is_reset_through_the_link_in_the_mail(
        tmp_path: Path, smtp_server: tuple[Collector, int]) -> None:
    collector, smtp_port = smtp_server
    data = tmp_path / "node"
    weft("admin", "create-user", "rosa", "--email", "rosa@example.org", "--password", PASSWORD, data=data)
    process, url = serve(data, {"WEFT_SMTP_HOST": "127.0.0.1", "WEFT_SMTP_PORT": str(smtp_port),
                                "WEFT_SMTP_FROM": "weft@weft.test", "WEFT_PUBLIC_URL": PUBLIC_URL})
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            token = form(client, "/auth/password/forgot")
            answers = [client.post("/auth/password/forgot", data={"csrf": token, "name": name})
                       for name in ("nobody_here", "rosa")]
            # Strangers learn nothing: the same words for an unknown name and a real one.
            assert [answer.status_code for answer in answers] == [200, 200]
            assert answers[0].text == answers[1].text
            assert "a link is on its way" in answers[1].text

            wait_for_mail(collector)
            (envelope,) = collector.envelopes
            assert envelope.rcpt_tos == ["rosa@example.org"]
            message = collector.received()
            assert message["From"] == "weft@weft.test" and "weft.test" in message["Subject"]
            body = message.get_content()
            found = re.search(r"http://weft\.test(/auth/password/reset\?token=[\w-]+)", body)
            assert found is not None, body  # the link is on the public URL, not the bound one
            link = found.group(1)

            page = client.get(link)
            assert page.status_code == 200 and '<label for="password">New password</label>' in page.text
            reset_token = link.rsplit("=", 1)[1]
            changed = client.post("/auth/password/reset", data={
                "csrf": form(client, link), "token": reset_token,
                "password": "a new password", "password_again": "a new password"})
            assert changed.status_code == 303
            assert changed.headers["location"] == "/auth/sign_in?notice=password_reset"
            assert "Sign in with the new one." in client.get(changed.headers["location"]).text

            def sign_in(password: str) -> int:
                token = form(client, "/auth/sign_in")
                return client.post("/auth/sign_in", data={
                    "csrf": token, "name": "rosa", "password": password}).status_code

            assert sign_in(PASSWORD) == 401
            assert sign_in("a new password") == 303
            used = client.get(link)  # a link works once
            assert used.status_code == 401 and "Ask for a new link" in used.text
    finally:
        err = stop(process)
    assert "Traceback" not in err
    assert len(collector.envelopes) == 1


def test_a_public_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    run = weft("serve", "--port", "0", "--gossip-port", "-1", "--no-lan", "--public-url", "ftp://weft.test",
               data=tmp_path / "node", ok=False)
    assert run.code == 2 and "error: the public URL must be http(s)://host[:port]" in run.err


async def test_without_an_smtp_server_the_mail_is_a_file_in_the_data_directory(
        make_config: Callable[[str], NodeConfig]) -> None:
    config = make_config("n")
    async with serving(config) as running, running.client() as client:
        await running.site.accounts.sign_up("sol", PASSWORD, email="sol@example.org")
        token = await form_page(client, "/auth/password/forgot")
        assert (await client.post("/auth/password/forgot", data={"csrf": token, "name": "sol"})).status_code == 200
        mail_dir = config.data_dir / "mail"
        deadline = time.monotonic() + MAIL_WAIT_S
        while not list(mail_dir.glob("*.eml")):
            assert time.monotonic() < deadline, "no mail was written"
            await asyncio.sleep(0.05)
        (path,) = mail_dir.glob("*.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["To"] == "sol@example.org"
        part = message.get_body()
        assert part is not None
        body = part.get_content()
        found = re.search(re.escape(running.url) + r"(/auth/password/reset\?token=[\w-]+)", body)
        assert found is not None, body
        assert (await client.get(found.group(1))).status_code == 200


async def test_a_mail_that_cannot_be_sent_is_logged_and_the_answer_stays_the_same(
        make_config: Callable[[str], NodeConfig], caplog: pytest.LogCaptureFixture) -> None:
    environ = {"WEFT_SMTP_HOST": "127.0.0.1", "WEFT_SMTP_PORT": str(closed_port())}
    caplog.set_level(logging.ERROR, logger="weft.web")
    async with serving(make_config("n"), environ=environ) as running, running.client() as client:
        await running.site.accounts.sign_up("tam", PASSWORD, email="tam@example.org")
        token = await form_page(client, "/auth/password/forgot")
        answer = await client.post("/auth/password/forgot", data={"csrf": token, "name": "tam"})
        assert answer.status_code == 200 and "a link is on its way" in answer.text
        deadline = time.monotonic() + MAIL_WAIT_S
        while not caplog.records:
            assert time.monotonic() < deadline, "the failure was not logged"
            await asyncio.sleep(0.05)
        (record,) = caplog.records
        assert "the password-reset mail of @tam was not sent" in record.getMessage()
        assert "could not send mail through 127.0.0.1:" in record.getMessage()
