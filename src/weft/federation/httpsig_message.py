"""The request both signature schemes read, and the rules they share: dates, the window, digests.

A request is given as plain values (method, absolute URL, header lines, body bytes), so this
works the same under any HTTP server or client. Header names are compared without case and
repeated lines are combined with ``", "`` (RFC 9110 §5.3, RFC 9421 §2.1, draft-cavage-12
§2.3). Header values arrive as ASGI servers and httpx give them: ``str`` decoded as latin-1.

The time window is Mastodon's (``SignedRequest#matches_time_window?``): a signature dated at
``created`` (its ``created`` parameter, else the Date header) expires at its ``expires``
parameter, else five minutes after ``created``, and never later than twelve hours after it;
it is refused when ``created`` is more than an hour ahead of ``now`` or ``now`` is more than
an hour past the expiry. So without ``expires`` a signature is good from an hour before its
date to 65 minutes after it. ``now`` is milliseconds since the Unix epoch, as weft's clock
gives it; nothing here reads a clock.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from weft.federation.httpsig_errors import SignatureRejected

__all__ = [
    "CLOCK_SKEW_S",
    "DEFAULT_LIFETIME_S",
    "MAX_LIFETIME_S",
    "HeaderInput",
    "Request",
    "SignatureRequest",
    "check_digest",
    "check_window",
    "format_http_date",
    "parse_http_date",
    "sha256_base64",
]

CLOCK_SKEW_S: Final = 60 * 60
DEFAULT_LIFETIME_S: Final = 5 * 60
MAX_LIFETIME_S: Final = 12 * 60 * 60

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Request:
    """One HTTP request as the signature schemes see it; build it with :meth:`of`."""

    method: str
    url: str
    scheme: str
    authority: str           # host[:port], lower case, the scheme's default port left out
    path: str                # as in the URL, percent-encoding kept; "/" when empty
    query: str               # without the "?"; "" when there is none
    fields: Mapping[str, tuple[str, ...]]
    body: bytes | None

    @classmethod
    def of(cls, method: str, url: str, headers: HeaderInput, body: bytes | None) -> Request:
        """Check and normalize a request; anything unusable raises ``SignatureRejected``."""
        if not method or not method.isascii() or not method.isalpha():
            raise SignatureRejected("malformed", f"the request method {method!r} is not an HTTP method")
        try:
            parts = urlsplit(url)
            scheme, hostname, port = parts.scheme.lower(), parts.hostname, parts.port
        except ValueError as error:
            raise SignatureRejected("malformed", f"the request URL {url!r} cannot be read: {error}") from None
        if scheme not in _DEFAULT_PORTS or not hostname:
            raise SignatureRejected("malformed", f"the request URL {url!r} is not an absolute http(s) URL")
        host = hostname.lower()
        host = f"[{host}]" if ":" in host else host
        authority = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        fields: dict[str, list[str]] = {}
        for name, value in pairs:
            fields.setdefault(name.strip().lower(), []).append(value.strip(" \t"))
        return cls(method=method, url=url, scheme=scheme, authority=authority,
                   path=parts.path or "/", query=parts.query,
                   fields={name: tuple(values) for name, values in fields.items()}, body=body)

    @property
    def path_and_query(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def has(self, name: str) -> bool:
        return name in self.fields

    def field(self, name: str) -> str | None:
        """The header's lines combined with ", ", or None when the request has no such header."""
        lines = self.fields.get(name)
        if lines is None:
            return None
        value = ", ".join(lines)
        if "\n" in value or "\r" in value or "\0" in value:
            raise SignatureRejected("malformed", f"the {name} header holds a line break or NUL")
        return value

    def body_bytes(self) -> bytes:
        return self.body or b""

    @property
    def needs_digest(self) -> bool:
        """A POST, or any request with a body: its signature must cover a digest of the body."""
        return self.method.upper() == "POST" or bool(self.body)


@dataclass(frozen=True)
class SignatureRequest:
    """A signed request that passed every check a key is not needed for: step A of verifying.

    The caller looks up the key named by ``key_id`` (from its cache, or by fetching the
    actor), then hands it to ``verify`` with this. ``bases`` are the bytes the signature may
    sign: one, or for draft-cavage a second without the query string in
    ``(request-target)``, which Mastodon before 4.3 signed that way.
    """

    scheme: Literal["draft-cavage", "rfc9421"]
    key_id: str
    algorithm: str               # as declared: rsa-sha256 or hs2019 (cavage), the alg parameter or "" (RFC 9421)
    covered: tuple[str, ...]     # the covered headers and components, as the signature names them
    created: int                 # Unix seconds: the created parameter, or the Date header
    bases: tuple[bytes, ...]
    signature: bytes
    label: str | None = None     # RFC 9421's signature label


def sha256_base64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def check_digest(request: Request) -> None:
    """The ``Digest`` header (RFC 3230) must hold a SHA-256 entry equal to the body's."""
    header = request.field("digest")
    if header is None:
        raise SignatureRejected("missing", "the signature covers the Digest header, which the request does not have")
    offered = {}
    for entry in header.split(","):
        algorithm, _, value = entry.strip().partition("=")
        offered[algorithm.lower()] = value.strip()
    given = offered.get("sha-256")
    if given is None:
        raise SignatureRejected("digest", (
            f"the Digest header offers {', '.join(offered) or 'nothing'}; a SHA-256 digest is required"))
    actual = sha256_base64(request.body_bytes())
    if given != actual:
        raise SignatureRejected("digest", f"the body does not match the Digest header: it hashes to SHA-256={actual}, "
                                          f"the header says SHA-256={given}")


def format_http_date(now: int) -> str:
    """``now`` (ms) as an RFC 9110 IMF-fixdate, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return email.utils.formatdate(now // 1000, usegmt=True)


def parse_http_date(value: str) -> int:
    """An HTTP date (IMF-fixdate, or the obsolete forms email.utils reads) as Unix seconds."""
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise SignatureRejected("malformed", f"the Date header {value!r} is not an HTTP date")
    try:
        return email.utils.mktime_tz(parsed)
    except (OverflowError, ValueError):
        raise SignatureRejected("malformed", f"the Date header {value!r} is out of range") from None


def check_window(created: int, expires: int | None, now: int, *, dated_by: str) -> None:
    """Refuse a signature outside Mastodon's window (see the module docstring).

    ``created`` and ``expires`` are Unix seconds, ``now`` is milliseconds; ``dated_by`` names
    where ``created`` came from, for the message.
    """
    now_s = now / 1000
    if created > now_s + CLOCK_SKEW_S:
        raise SignatureRejected("stale", (
            f"the signature is dated {_duration(created - now_s)} in the future by its {dated_by}; "
            f"at most {_duration(CLOCK_SKEW_S)} of clock skew is allowed"))
    until = min(created + DEFAULT_LIFETIME_S if expires is None else expires, created + MAX_LIFETIME_S)
    if now_s > until + CLOCK_SKEW_S:
        if expires is not None and expires <= created + MAX_LIFETIME_S:
            why = f"it expired {_duration(now_s - expires)} ago by its expires parameter"
        else:
            why = (f"it is {_duration(now_s - created)} old by its {dated_by}, and a signature is "
                   f"good for {_duration(until - created)}")
        raise SignatureRejected("stale", (
            f"the signature is too old: {why}, with {_duration(CLOCK_SKEW_S)} allowed for clock skew"))


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    parts = [(whole // 86400, "d"), (whole // 3600 % 24, "h"), (whole // 60 % 60, "min"), (whole % 60, "s")]
    return " ".join(f"{amount} {unit}" for amount, unit in parts if amount)
