"""Outgoing mail: the messages weft sends people (password-reset links), and how they leave.

A node sends mail through an SMTP server it is configured with (``WEFT_SMTP_*``, read by
:meth:`MailSettings.from_env`). Where none is configured, mail goes to files instead
(:class:`FileOutbox`), so that someone trying weft out with ``make run`` can still reset a
password: the link is in ``data/mail/*.eml``. Both are an :class:`Outbox`; the code that sends
mail is handed one and does not care which.

``smtplib`` is blocking, so :func:`send` runs it in a thread; every way it can fail becomes one
:class:`MailError` whose message names the server, never a traceback.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import secrets
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal, Protocol, get_args

from weft.errors import UsageError, WeftError

__all__ = [
    "FileOutbox",
    "MailError",
    "MailSettings",
    "Outbox",
    "Security",
    "SmtpOutbox",
    "compose",
    "send",
]

log = logging.getLogger("weft.mail")

Security = Literal["none", "starttls", "tls"]
"""How the connection to the SMTP server is protected: not at all, upgraded with STARTTLS
after connecting (usually port 587), or TLS from the first byte (usually port 465)."""

SECURITY_CHOICES: tuple[Security, ...] = get_args(Security)
DEFAULT_PORTS: Mapping[Security, int] = {"none": 25, "starttls": 587, "tls": 465}
DEFAULT_TIMEOUT_S = 30.0
# RFC 5322 §2.1.1: no line may be longer than 998 characters (plus CRLF).
_MAX_LINE = 998


class MailError(WeftError):
    """Mail could not be handed to the SMTP server; the message names the server and why."""


@dataclass(frozen=True)
class MailSettings:
    """Where and how to hand over outgoing mail.

    ``username`` and ``password`` go together: both set (log in) or neither (do not).
    """

    host: str
    port: int
    sender: str
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # kept out of logs and tracebacks
    timeout: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if not self.host:
            raise UsageError("the SMTP host is empty")
        if not 0 < self.port < 65536:
            raise UsageError(f"SMTP port {self.port} is not between 1 and 65535")
        if self.security not in SECURITY_CHOICES:
            raise UsageError(f"unknown SMTP security {self.security!r}: "
                             f"choose one of {', '.join(SECURITY_CHOICES)}")
        if (self.username is None) != (self.password is None):
            raise UsageError("an SMTP user needs a password, and a password needs a user "
                             "(set both WEFT_SMTP_USER and WEFT_SMTP_PASSWORD, or neither)")
        if self.timeout <= 0:
            raise UsageError(f"SMTP timeout {self.timeout} s is not positive")
        _check_address(self.sender, "sender")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MailSettings | None:
        """Read ``WEFT_SMTP_*`` from ``environ``; None when ``WEFT_SMTP_HOST`` is unset.

        ``WEFT_SMTP_SECURITY`` is none (the default), starttls or tls; ``WEFT_SMTP_PORT``
        defaults to the usual port of that choice (25, 587, 465); ``WEFT_SMTP_FROM`` to
        ``weft@`` this machine's host name. An empty variable counts as unset, as container
        environments often set them empty.
        """
        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        host = get("WEFT_SMTP_HOST")
        if host is None:
            return None
        security_text = (get("WEFT_SMTP_SECURITY") or "none").lower()
        security = next((choice for choice in SECURITY_CHOICES if choice == security_text), None)
        if security is None:
            raise UsageError(f"WEFT_SMTP_SECURITY={security_text!r} is not one of "
                             f"{', '.join(SECURITY_CHOICES)}")
        port_text = get("WEFT_SMTP_PORT")
        if port_text is None:
            port = DEFAULT_PORTS[security]
        elif port_text.isascii() and port_text.isdigit():
            port = int(port_text)
        else:
            raise UsageError(f"WEFT_SMTP_PORT={port_text!r} is not a port number")
        return cls(host=host, port=port,
                   sender=get("WEFT_SMTP_FROM") or f"weft@{socket.gethostname()}",
                   security=security, username=get("WEFT_SMTP_USER"),
                   # A password may well begin or end with a space: take it as it is.
                   password=environ.get("WEFT_SMTP_PASSWORD") or None)

    @property
    def server(self) -> str:
        """``host:port``, as error messages name the server."""
        return f"{self.host}:{self.port}"


def _check_address(address: str, role: str) -> None:
    # Not a full RFC 5322 parser: enough to catch a missing or swapped setting, and the line
    # breaks that would let a value smuggle in headers of its own.
    if "@" not in address or any(char in address for char in "\r\n"):
        raise UsageError(f"the {role} {address!r} is not a mail address")


def compose(sender: str, to: str, subject: str, body_text: str, *,
            now: datetime | None = None) -> EmailMessage:
    """A plain-text UTF-8 message with the headers mail servers expect (Date, Message-ID).

    ``now`` is the Date (default: the current time). The body is sent as written, in 7 or
    8 bits, not quoted-printable, so that a link in it stays one piece of text that can be
    copied out of a saved .eml file; only lines over the 998-character limit are encoded.
    """
    _check_address(sender, "sender")
    _check_address(to, "recipient")
    if any(char in subject for char in "\r\n"):
        raise UsageError("a mail subject is one line")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # The sender's domain, not make_msgid's default: that asks DNS for this host's full name.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    # The limit is in octets, and mail lines end only at CR and LF (str.splitlines would also
    # split at U+2028 and other characters that mail carries as text).
    if any(len(line) > _MAX_LINE for line in body_text.encode("utf-8").splitlines()):
        encoding = "quoted-printable"
    else:
        encoding = "7bit" if body_text.isascii() else "8bit"
    message.set_content(body_text, charset="utf-8", cte=encoding)
    return message


async def send(settings: MailSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server of ``settings``; raise :class:`MailError` if it fails.

    Runs ``smtplib`` in a worker thread, so the event loop goes on meanwhile.
    """
    await asyncio.to_thread(_deliver, settings, message)


def _deliver(settings: MailSettings, message: EmailMessage) -> None:
    try:
        smtp: smtplib.SMTP
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.username is not None and settings.password is not None:
                smtp.login(settings.username, settings.password)
            ready, options = _for_server(smtp, message)
            smtp.send_message(ready, mail_options=options)
    except (OSError, UnicodeError) as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors
        raise MailError(f"could not send mail through {settings.server}: {_reason(exc)}") from exc


def _for_server(smtp: smtplib.SMTP, message: EmailMessage) -> tuple[EmailMessage, tuple[str, ...]]:
    """The message and the MAIL options to send it with to this server: an 8-bit body is
    declared (BODY=8BITMIME), or re-encoded as quoted-printable for the rare server that
    cannot take one."""
    smtp.ehlo_or_helo_if_needed()
    if message.get("Content-Transfer-Encoding") != "8bit":
        return message, ()
    if smtp.has_extn("8bitmime"):
        return message, ("BODY=8BITMIME",)
    seven_bit = copy.deepcopy(message)
    seven_bit.set_content(message.get_content(), charset="utf-8", cte="quoted-printable")
    return seven_bit, ()


def _reason(exc: BaseException) -> str:
    """One line saying why, in the server's words where it gave some."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{to} ({code} {_text(why)})" for to, (code, why) in exc.recipients.items())
        reason = f"the server refused the recipient {refused}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    elif isinstance(exc, UnicodeError):
        # Not str(exc): it quotes the character, which may be one of the password's.
        reason = "SMTP cannot carry non-ASCII text here (a user name or password?)"
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror  # "Connection refused", not "[Errno 111] Connection refused"
    else:
        reason = str(exc) or type(exc).__name__
    return " ".join(reason.split())


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class Outbox(Protocol):
    """Where the mail a node sends goes: an SMTP server (:class:`SmtpOutbox`) or, on a node
    without one, files (:class:`FileOutbox`)."""

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``, or raise :class:`MailError`."""
        ...


class SmtpOutbox:
    """Mail handed to an SMTP server, as a node configured with ``WEFT_SMTP_HOST`` sends it."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        """Send ``message`` through the server; raise :class:`MailError` if it fails."""
        await send(self.settings, message)


class FileOutbox:
    """Mail written to ``directory`` as .eml files, for nodes with no SMTP server.

    ``make run`` uses it when ``WEFT_SMTP_HOST`` is unset, so that a newcomer can still reset
    a password: the reset link is in ``data/mail/*.eml`` (open it in a mail program or a text
    editor), and each message's path is logged (``weft.mail``, INFO). Files are readable by
    this user only, since reset links are secrets.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        """Write ``message`` to a new file (its path is logged); raise :class:`MailError`
        if the directory cannot be written."""
        path = await asyncio.to_thread(self._write, message)
        log.info("mail to %s written to %s (no SMTP server is configured: WEFT_SMTP_HOST)",
                 message["To"], path)

    def _write(self, message: EmailMessage) -> Path:
        # Named by time first, so that `ls` lists them in the order they were sent.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        partial = path.with_suffix(".eml.partial")
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "wb") as file:
                file.write(message.as_bytes())
            # Whole files only: a reader never sees a message half written.
            partial.rename(path)
        except OSError as exc:
            raise MailError(f"could not write mail to {self.directory}: {_reason(exc)}") from exc
        return path
