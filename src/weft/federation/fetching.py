"""The one HTTP client weft uses to talk to other servers: fetching actors and objects, and
delivering activities, within limits a hostile server cannot stretch.

    async with FetchClient(FetchSettings(), signer=instance_actor_signer) as client:
        actor = await client.fetch("https://example.social/users/alice")      # AS2, checked
        await client.deliver(actor.document["inbox"], body, signer=alice_signer)

What it guarantees, for every request and every redirect hop:

- Addresses: only public addresses are connected to, checked after resolution and pinned
  (weft.federation.addresses for the rule, weft.federation.fetching_transport for how);
  ``allow_private`` or ``allowed_hosts`` open LANs and tests.
- URLs: https only, or http too when ``allow_http``; no user info in URLs.
- Time: ``total_timeout`` bounds the whole exchange (redirects, waiting for a slot or the
  rate limit, reading the body), ``connect_timeout`` each connection attempt.
- Size: bodies are read as a stream and reading stops one byte past the limit, counted after
  decompression (weft.federation.fetching_body).
- Redirects: at most ``max_redirects``, each target checked like the first URL. GETs follow
  301, 302, 303, 307 and 308; a delivery (POST) follows only 307 and 308, which keep the
  method and body (the others would turn it into a GET, which delivers nothing).
- Content types: :meth:`FetchClient.fetch` accepts only Activity Streams types (see
  weft.federation.fetching_body for why plain JSON is refused) and sends an AS2 ``Accept``.
- Signing: a signer (a callable, e.g. from weft.federation.httpsig) sees each request's
  method, URL, headers and body just before it is sent, and returns headers to add; each
  redirect hop is signed afresh, since the signature covers the target and host.
- Fairness: at most ``per_host_connections`` requests in flight per host (a semaphore per
  host, held in a map only while a request to that host waits or runs, so the map never
  outgrows the requests in flight), and fetches (not deliveries, which their queue paces)
  limited per host by a token bucket (weft.ratelimit): a fetch waits up to
  ``max_rate_wait`` seconds for a token, and past that fails as ``rate-limited``.

Every failure is a :class:`~weft.federation.fetching_errors.FetchError` with a kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import httpx
import orjson

from weft.errors import UsageError
from weft.federation.addresses import AddressPolicy
from weft.federation.fetching_body import (
    ACCEPT_ENCODING,
    AS2_ACCEPT,
    BoundedBody,
    is_activity_streams,
)
from weft.federation.fetching_errors import FetchError
from weft.federation.fetching_transport import PinnedTransport, Resolver, resolve_system
from weft.ratelimit import RateLimiter

__all__ = ["AS2_CONTENT_TYPE", "FetchClient", "FetchSettings", "Fetched", "FetchedDocument", "Signer"]

AS2_CONTENT_TYPE = "application/activity+json"
# A host name as DNS has it (after IDNA), or an address: "%" or a space never reach a resolver.
_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+", re.IGNORECASE)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METHOD_KEEPING_REDIRECTS = frozenset({307, 308})
# What is read of a delivery's answer, so that its connection can be used again; the rest
# is not wanted.
_DELIVERY_ANSWER_BYTES = 64 * 1024


class Signer(Protocol):
    """Signs a request about to be sent: returns the headers to add (Signature, Date, Digest).

    ``headers`` are all the request's headers, names lower-cased, ``host`` among them as sent;
    ``body`` is ``b""`` for a GET. (weft.federation.httpsig.sign fits behind a lambda that
    adds the key, the key id and the time.)
    """

    def __call__(self, method: str, url: str, headers: Mapping[str, str],
                 body: bytes) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class FetchSettings:
    """The limits of outgoing federation HTTP; the defaults suit a public server."""

    allow_private: bool = False
    allowed_hosts: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)
    allow_http: bool = False
    total_timeout: float = 30.0
    connect_timeout: float = 10.0
    max_document_bytes: int = 1024 * 1024  # Mastodon's limit for fetched JSON
    max_redirects: int = 3
    per_host_connections: int = 8
    max_connections: int = 200
    fetches_per_host: int = 300
    fetch_period: float = 300.0
    max_rate_wait: float = 10.0
    user_agent: str = "weft"

    def __post_init__(self) -> None:
        for name in ("total_timeout", "connect_timeout", "fetch_period"):
            if not getattr(self, name) > 0:
                raise UsageError(f"{name} must be a positive number of seconds")
        for name in ("max_document_bytes", "per_host_connections", "max_connections",
                     "fetches_per_host"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1")
        if self.max_redirects < 0 or self.max_rate_wait < 0:
            raise UsageError("max_redirects and max_rate_wait cannot be negative")


@dataclass(frozen=True)
class Fetched:
    """A successful answer: the URL it came from after redirects, and its body."""

    url: str
    status: int
    content_type: str | None
    body: bytes


@dataclass(frozen=True)
class FetchedDocument:
    """An Activity Streams document and the URL it was served at after redirects (callers
    compare its ``id`` with that URL's origin before trusting it)."""

    url: str
    document: dict[str, Any]


class _HostSlots:
    """A semaphore per host, kept only while someone holds or awaits it."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.get(host, (asyncio.Semaphore(self._per_host), 0))
        self._slots[host] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (semaphore, users - 1)


class FetchClient:
    """Fetches from and delivers to remote servers; see the module docstring."""

    def __init__(self, settings: FetchSettings | None = None, *, signer: Signer | None = None,
                 resolver: Resolver | None = None, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings = settings or FetchSettings()
        self._signer = signer
        policy = AddressPolicy(settings.allow_private, settings.allowed_hosts)
        transport = PinnedTransport(policy, resolver or resolve_system,
                                    ssl_context or httpx.create_ssl_context(),
                                    max_connections=settings.max_connections)
        self._http = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout),
            headers={"user-agent": settings.user_agent, "accept-encoding": ACCEPT_ENCODING})
        self._slots = _HostSlots(settings.per_host_connections)
        self._fetch_limit = RateLimiter(settings.fetches_per_host, settings.fetch_period, clock)

    async def __aenter__(self) -> FetchClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def fetch(self, url: str, *, signer: Signer | None = None) -> FetchedDocument:
        """GET the Activity Streams document at ``url`` (signed when a signer is given here
        or to the client, as authorized fetch needs)."""
        fetched = await self.get(url, accept=AS2_ACCEPT, accepts=is_activity_streams, signer=signer)
        try:
            document = orjson.loads(fetched.body)
        except orjson.JSONDecodeError as e:
            raise FetchError("bad-body", f"not JSON ({e})", url=fetched.url) from e
        if not isinstance(document, dict):
            raise FetchError("bad-body", "not a JSON object", url=fetched.url)
        return FetchedDocument(fetched.url, document)

    async def get(self, url: str, *, accept: str, accepts: Callable[[str | None], bool] | None = None,
                  max_bytes: int | None = None, signer: Signer | None = None) -> Fetched:
        """GET ``url`` (WebFinger, NodeInfo, media...): ``accepts`` judges the answer's
        Content-Type, ``max_bytes`` caps its body (the settings' document limit by default)."""
        limit = self.settings.max_document_bytes if max_bytes is None else max_bytes
        return await self._exchange("GET", url, b"", {"accept": accept}, signer, accepts, limit)

    async def deliver(self, inbox: str, body: bytes, *, signer: Signer | None = None,
                      content_type: str = AS2_CONTENT_TYPE) -> int:
        """POST an activity to an inbox; the 2xx status on success, else FetchError."""
        fetched = await self._exchange("POST", inbox, body, {"content-type": content_type},
                                       signer, None, None)
        return fetched.status

    async def _exchange(self, method: str, url: str, body: bytes, headers: dict[str, str],
                        signer: Signer | None, accepts: Callable[[str | None], bool] | None,
                        limit: int | None) -> Fetched:
        sign = signer or self._signer
        target = self._checked(url)
        try:
            async with asyncio.timeout(self.settings.total_timeout):
                for _ in range(self.settings.max_redirects + 1):
                    if method == "GET":
                        await self._take_fetch_token(target)
                    async with self._slots.slot(target.host):
                        request = self._http.build_request(method, target, headers=headers,
                                                           content=body or None)
                        if sign is not None:
                            request.headers.update(sign(method, str(request.url),
                                                        dict(request.headers), body))
                        response = await self._http.send(request, stream=True)
                        try:
                            location = self._redirect(method, response)
                            if location is None:
                                return await self._answer(response, accepts, limit)
                        finally:
                            await response.aclose()
                    target = self._checked(str(target.join(location)))
        except TimeoutError as e:
            raise FetchError("timeout", f"no answer within {self.settings.total_timeout} s",
                             url=url) from e
        raise FetchError("too-many-redirects",
                         f"more than {self.settings.max_redirects} redirects", url=url)

    def _checked(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as e:
            raise FetchError("bad-url", f"not a URL ({e})", url=url) from e
        schemes = ("https", "http") if self.settings.allow_http else ("https",)
        if parsed.scheme not in schemes:
            raise FetchError("bad-url", f"only {' and '.join(schemes)} URLs are fetched", url=url)
        if not parsed.host:
            raise FetchError("bad-url", "no host", url=url)
        if not _HOST.fullmatch(parsed.raw_host.decode("ascii")):
            raise FetchError("bad-url", f"{parsed.host!r} is not a host name", url=url)
        if parsed.userinfo:
            raise FetchError("bad-url", "user names and passwords in URLs are not sent", url=url)
        return parsed

    async def _take_fetch_token(self, target: httpx.URL) -> None:
        while (wait := self._fetch_limit.check(target.host)) > 0:
            if wait > self.settings.max_rate_wait:
                raise FetchError("rate-limited", f"too many fetches from {target.host}",
                                 url=str(target), retry_after=wait)
            await asyncio.sleep(wait)

    @staticmethod
    def _redirect(method: str, response: httpx.Response) -> str | None:
        if response.status_code not in _REDIRECTS or "location" not in response.headers:
            return None
        if method != "GET" and response.status_code not in _METHOD_KEEPING_REDIRECTS:
            return None
        return response.headers["location"]

    async def _answer(self, response: httpx.Response, accepts: Callable[[str | None], bool] | None,
                      limit: int | None) -> Fetched:
        url = str(response.request.url)
        if not 200 <= response.status_code < 300:
            raise FetchError("status", f"answered {response.status_code}", url=url,
                             status=response.status_code, retry_after=_retry_after(response))
        content_type = response.headers.get("content-type")
        if accepts is not None and not accepts(content_type):
            raise FetchError("bad-content-type", f"answered a document of type {content_type!r}",
                             url=url)
        if limit is None:
            # A delivery's answer: read a little so the connection can be reused, keep nothing.
            with contextlib.suppress(FetchError):
                reader = BoundedBody(url, _DELIVERY_ANSWER_BYTES, None)
                async for chunk in response.aiter_raw():
                    reader.feed(chunk)
            return Fetched(url, response.status_code, content_type, b"")
        encoding = response.headers.get("content-encoding")
        declared = response.headers.get("content-length", "")
        if encoding is None and declared.isdigit() and int(declared) > limit:
            raise FetchError("too-large", f"the body is {declared} bytes, over {limit}", url=url)
        reader = BoundedBody(url, limit, encoding)
        async for chunk in response.aiter_raw():
            reader.feed(chunk)
        return Fetched(url, response.status_code, content_type, reader.finish())


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, from either form (RFC 9110 10.2.3): delay-seconds, or an
    HTTP date, read against the response's own Date when it has one, so that the two
    servers' clocks need not agree."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(response.headers.get("date", "").strip()) or time.time()
    return max(0.0, when - now)


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:    # an HTTP date is always GMT
        return None
    return parsed.timestamp()
