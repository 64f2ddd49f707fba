"""Outgoing mail: settings from the environment, composing, sending to a real SMTP server on
loopback (aiosmtpd, in its own thread), and the file outbox of nodes without one."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from hypothesis import given
from hypothesis import strategies as st

from weft.errors import UsageError
from weft.mail import (
    FileOutbox,
    MailError,
    MailSettings,
    Outbox,
    SmtpOutbox,
    compose,
    send,
)

RESET_LINK = "https://weft.example.org/reset?token=" + "Zm9v" * 30  # longer than 78 characters


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def received(self) -> EmailMessage:
        (envelope,) = self.envelopes
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class SevenBitCollector(Collector):
    """A server of old, which does not take 8-bit bodies (it leaves 8BITMIME out of EHLO)."""

    async def handle_EHLO(self, server: SMTPServer, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [line for line in responses if "8BITMIME" not in line]


class LoopbackController(Controller):
    """aiosmtpd's threaded Controller on a port the system picks (port 0).

    Controller connects to its own port once it listens, to check the server answers; with
    port 0 it would dial port 0, so it learns the bound port first.
    """

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def accept_operator(server: SMTPServer, session: Session, envelope: Envelope,
                    mechanism: str, auth_data: Any) -> AuthResult:
    good = (isinstance(auth_data, LoginPassword) and auth_data.login == b"operator"
            and auth_data.password == b"s3cret pass")
    # handled=False: aiosmtpd answers a failure with 535 itself (True means "I replied").
    return AuthResult(success=good, handled=False)


@contextmanager
def run_server(collector: Collector, **smtp_options: Any) -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on 127.0.0.1, in its own thread: (what it received, its port)."""
    controller = LoopbackController(collector, hostname="127.0.0.1", port=0, **smtp_options)
    controller.start()
    try:
        yield collector, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on 127.0.0.1 that takes any mail: (what it received, its port)."""
    with run_server(Collector()) as server:
        yield server


@pytest.fixture
def smtp_server_with_login() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server that wants a login (user "operator"), over plain TCP."""
    with run_server(Collector(), authenticator=accept_operator, auth_required=True,
                    auth_require_tls=False) as server:
        yield server


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def loopback(port: int, **options: Any) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, sender="weft@weft.example.org", **options)


# -- sending -----------------------------------------------------------------------------


async def test_a_reset_mail_arrives_with_its_headers_and_utf8_body(
        smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    sent_at = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    body = f"Bonjour Zoë,\n\nto choose a new password, open\n{RESET_LINK}\n\n— weft ✓\n"
    message = compose("weft@weft.example.org", "Zoë Ñandú <zoe@example.org>",
                      "Réinitialiser votre mot de passe", body, now=sent_at)

    await send(loopback(port), message)

    (envelope,) = collector.envelopes
    assert envelope.mail_from == "weft@weft.example.org"
    assert envelope.rcpt_tos == ["zoe@example.org"]
    assert "BODY=8BITMIME" in envelope.mail_options  # the 8-bit body was declared
    received = collector.received()
    assert received["From"] == "weft@weft.example.org"
    assert received["To"] == "Zoë Ñandú <zoe@example.org>"
    assert received["Subject"] == "Réinitialiser votre mot de passe"
    assert received["Date"].datetime == sent_at
    assert received["Message-ID"] == message["Message-ID"]
    assert received["Message-ID"].endswith("@weft.example.org>")
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert received.get_content().splitlines() == body.splitlines()  # CRLF on the wire
    # The link travels as one piece of text, as a person would copy it.
    assert isinstance(collector.envelopes[0].content, bytes)
    assert RESET_LINK.encode() in collector.envelopes[0].content


async def test_a_server_without_8bitmime_gets_quoted_printable() -> None:
    body = f"Grüße, Zoë\n{RESET_LINK}\n"
    message = compose("weft@weft.example.org", "zoe@example.org", "Grüße", body)
    with run_server(SevenBitCollector()) as (collector, port):
        await send(loopback(port), message)
        (envelope,) = collector.envelopes
        assert "BODY=8BITMIME" not in envelope.mail_options
        assert isinstance(envelope.content, bytes) and envelope.content.isascii()
        received = collector.received()
        assert received["Content-Transfer-Encoding"] == "quoted-printable"
        assert received.get_content().splitlines() == body.splitlines()
        assert received["Message-ID"] == message["Message-ID"]
    assert message["Content-Transfer-Encoding"] == "8bit"  # the caller's message is left as it was


# aiosmtpd warns, rightly, that a server asking for a password over plain TCP invites
# eavesdroppers; this one is on loopback, to check that weft logs in when told to.
plain_login = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning")


@plain_login
async def test_an_outbox_with_login_sends_through_the_server(
        smtp_server_with_login: tuple[Collector, int]) -> None:
    collector, port = smtp_server_with_login
    outbox: Outbox = SmtpOutbox(loopback(port, username="operator", password="s3cret pass"))

    await outbox.send(compose("weft@weft.example.org", "a@example.org", "Hello", "plain ascii\n"))

    assert collector.received().get_content() == "plain ascii\r\n"


@plain_login
async def test_a_wrong_password_is_one_line_naming_the_server(
        smtp_server_with_login: tuple[Collector, int]) -> None:
    collector, port = smtp_server_with_login
    settings = loopback(port, username="operator", password="guess")

    with pytest.raises(MailError) as failure:
        await send(settings, compose("weft@weft.example.org", "a@example.org", "Hi", "x\n"))

    assert str(failure.value).startswith(f"could not send mail through 127.0.0.1:{port}: 535 ")
    assert "\n" not in str(failure.value)
    assert collector.envelopes == []


async def test_a_refused_connection_names_host_and_port() -> None:
    port = closed_port()
    with pytest.raises(MailError) as failure:
        await send(loopback(port), compose("weft@weft.example.org", "a@example.org", "Hi", "x\n"))
    assert str(failure.value) == f"could not send mail through 127.0.0.1:{port}: Connection refused"


async def test_starttls_against_a_server_without_it_fails_rather_than_send_in_the_clear(
        smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    with pytest.raises(MailError, match=f"127.0.0.1:{port}: STARTTLS extension not supported"):
        await send(loopback(port, security="starttls"),
                   compose("weft@weft.example.org", "a@example.org", "Hi", "secret link\n"))
    assert collector.envelopes == []


async def test_tls_against_a_plain_server_is_a_mail_error(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    with pytest.raises(MailError, match=f"^could not send mail through 127.0.0.1:{port}: "):
        await send(loopback(port, security="tls", timeout=10),
                   compose("weft@weft.example.org", "a@example.org", "Hi", "secret link\n"))
    assert collector.envelopes == []


# -- composing ---------------------------------------------------------------------------


def test_a_plain_ascii_body_is_sent_as_it_is() -> None:
    message = compose("weft@weft.example.org", "a@example.org", "Reset", f"{RESET_LINK}\n")
    assert message["Content-Transfer-Encoding"] == "7bit"
    assert f"\n{RESET_LINK}\n".encode() in message.as_bytes()


def test_lines_over_the_smtp_limit_are_encoded() -> None:
    body = "é" * 600 + "\n"  # 600 characters, but 1200 octets: the limit counts octets
    message = compose("weft@weft.example.org", "a@example.org", "Long", body)
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert max(len(line) for line in message.as_bytes().splitlines()) <= 998
    assert message.get_content() == body


@pytest.mark.parametrize(("sender", "to", "subject"), [
    ("weft.example.org", "a@example.org", "Hi"),               # no @: a host, not an address
    ("weft@weft.example.org", "", "Hi"),
    ("weft@weft.example.org", "a@example.org\r\nBcc: b@example.org", "Hi"),
    ("weft@weft.example.org", "a@example.org", "Hi\nBcc: b@example.org"),
])
def test_addresses_and_subjects_cannot_smuggle_headers(sender: str, to: str, subject: str) -> None:
    with pytest.raises(UsageError):
        compose(sender, to, subject, "body\n")


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
def test_any_text_body_survives_composing(text: str) -> None:
    message = compose("weft@weft.example.org", "a@example.org", "Any", text)
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    # Mail has lines, not a byte stream: CR, LF and CRLF all end one, the last line too.
    lines = [line.decode() for line in text.encode().splitlines()]
    assert parsed.get_content() == ("".join(f"{line}\n" for line in lines) or "\n")


# -- settings from the environment ---------------------------------------------------------


def test_no_smtp_host_means_no_smtp_settings() -> None:
    assert MailSettings.from_env({}) is None
    assert MailSettings.from_env({"WEFT_SMTP_HOST": "", "WEFT_SMTP_PORT": "587"}) is None


@pytest.mark.parametrize(("security", "port"), [(None, 25), ("none", 25), ("starttls", 587),
                                                 ("tls", 465), ("STARTTLS", 587)])
def test_the_port_defaults_to_the_usual_one_for_the_security(security: str | None, port: int) -> None:
    environ = {"WEFT_SMTP_HOST": "smtp.example.org"}
    if security is not None:
        environ["WEFT_SMTP_SECURITY"] = security
    settings = MailSettings.from_env(environ)
    assert settings is not None
    assert settings.port == port and settings.security == (security or "none").lower()


def test_every_smtp_setting_is_read() -> None:
    settings = MailSettings.from_env({
        "WEFT_SMTP_HOST": "smtp.example.org", "WEFT_SMTP_PORT": "2525",
        "WEFT_SMTP_FROM": "Weft <noreply@example.org>", "WEFT_SMTP_SECURITY": "starttls",
        "WEFT_SMTP_USER": "operator", "WEFT_SMTP_PASSWORD": " spaces count ",
    })
    assert settings == MailSettings(host="smtp.example.org", port=2525,
                                    sender="Weft <noreply@example.org>", security="starttls",
                                    username="operator", password=" spaces count ")
    assert settings.server == "smtp.example.org:2525"
    assert "spaces count" not in repr(settings)  # settings get logged; the password must not


def test_the_sender_defaults_to_weft_at_this_host() -> None:
    settings = MailSettings.from_env({"WEFT_SMTP_HOST": "smtp.example.org"})
    assert settings is not None
    assert settings.sender == f"weft@{socket.gethostname()}"
    assert settings.username is None and settings.password is None


@pytest.mark.parametrize(("environ", "complaint"), [
    ({"WEFT_SMTP_PORT": "smtp"}, "WEFT_SMTP_PORT='smtp' is not a port number"),
    ({"WEFT_SMTP_PORT": "-25"}, "WEFT_SMTP_PORT='-25' is not a port number"),
    ({"WEFT_SMTP_PORT": "٢٥"}, "is not a port number"),  # digits, but not ASCII ones
    ({"WEFT_SMTP_PORT": "70000"}, "SMTP port 70000 is not between 1 and 65535"),
    ({"WEFT_SMTP_SECURITY": "ssl"}, "WEFT_SMTP_SECURITY='ssl' is not one of none, starttls, tls"),
    ({"WEFT_SMTP_USER": "operator"}, "an SMTP user needs a password"),
    ({"WEFT_SMTP_PASSWORD": "s3cret"}, "an SMTP user needs a password"),
    ({"WEFT_SMTP_FROM": "weft"}, "the sender 'weft' is not a mail address"),
])
def test_bad_smtp_settings_are_one_clear_error(environ: dict[str, str], complaint: str) -> None:
    with pytest.raises(UsageError, match=re.escape(complaint)):
        MailSettings.from_env({"WEFT_SMTP_HOST": "smtp.example.org", **environ})


# -- the file outbox -----------------------------------------------------------------------


async def test_the_file_outbox_writes_a_readable_eml(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "data" / "mail"  # made on first use
    outbox: Outbox = FileOutbox(directory)
    body = f"Hello Zoë,\n{RESET_LINK}\n"
    message = compose("weft@weft.example.org", "zoe@example.org", "Reset your password", body)

    with caplog.at_level(logging.INFO, logger="weft.mail"):
        await outbox.send(message)
        await outbox.send(compose("weft@weft.example.org", "b@example.org", "Second", "two\n"))

    files = sorted(directory.iterdir())
    assert len(files) == 2 and all(path.suffix == ".eml" for path in files)  # no .partial left
    (first,) = (path for path in files if b"zoe@example.org" in path.read_bytes())
    raw = first.read_bytes()
    assert f"\n{RESET_LINK}\n".encode() in raw  # findable with grep, copyable from an editor
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "zoe@example.org" and parsed["Subject"] == "Reset your password"
    assert parsed.get_content() == body
    assert stat.S_IMODE(first.stat().st_mode) == 0o600  # reset links are secrets
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    logged = [record.getMessage() for record in caplog.records]
    assert any(str(first) in line and "zoe@example.org" in line for line in logged)


async def test_an_unwritable_mail_directory_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(MailError, match=f"could not write mail to {blocker}: "):
        await FileOutbox(blocker).send(compose("weft@weft.example.org", "a@example.org", "Hi", "x\n"))
