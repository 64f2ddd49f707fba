"""An httpx transport that connects only to addresses the policy allows, and to exactly those.

Checking a host name and then letting the HTTP library connect to it is not enough: the
library resolves the name again, and a hostile DNS server answers a public address to the
check and 127.0.0.1 to the connection (DNS rebinding). So the name is resolved once, here,
every address is checked, and the socket is opened to a checked address.

How, with httpx: httpx's ``AsyncHTTPTransport`` hands connections to httpcore, whose
connection pool opens sockets through a *network backend* (``httpcore.AsyncNetworkBackend``,
``connect_tcp(host, port, ...)``). :class:`PinnedBackend` is such a backend: it resolves
``host``, asks :class:`~weft.federation.addresses.AddressPolicy` about each address, and
gives httpcore's own AnyIO backend the IP address to connect to. Everything above the
socket is unchanged: the request line and ``Host`` header keep the name, and httpcore starts
TLS with the origin's name as SNI and as the name the certificate must match (it does so
after ``connect_tcp``, from the URL, not from the address). Since ``AsyncHTTPTransport`` has
no parameter for a backend, :class:`PinnedTransport` holds its own httpcore pool and maps
httpcore's errors to :class:`~weft.federation.fetching_errors.FetchError` itself. No proxy
is ever used (a proxy would resolve the name on its own side, past the check).

If a name resolves to several addresses and any is refused, the host is refused: a name that
mixes public and private addresses is an attack or a mistake. Addresses are tried in the
resolver's order, each within the connect timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from weft.federation.addresses import AddressPolicy, IPAddress
from weft.federation.fetching_errors import FetchError, FetchErrorKind

__all__ = ["MAX_ADDRESSES_TRIED", "PinnedBackend", "PinnedTransport", "Resolver", "resolve_system"]

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""Resolves (host name, port) to addresses; the system's resolver unless tests name one."""

MAX_ADDRESSES_TRIED = 4
MAX_IDLE_CONNECTIONS = 20
# A name's addresses are all checked, but a name with hundreds of them is refused outright.
_MAX_ADDRESSES = 32


class _Unreachable(Exception):
    """Raised inside httpcore's pool, turned into a FetchError with the URL by the transport."""

    def __init__(self, kind: FetchErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: FetchErrorKind = kind


async def resolve_system(host: str, port: int) -> Sequence[IPAddress]:
    """The addresses of ``host`` by the system's resolver (getaddrinfo), in its order."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise _Unreachable("connection", f"cannot resolve {host} ({e})") from e
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves, checks, and connects to the checked address."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def addresses(self, host: str, port: int) -> Sequence[IPAddress]:
        """The addresses of ``host`` that may be connected to, or _Unreachable."""
        try:
            found: Sequence[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            found = await self._resolver(host, port)
        if not found:
            raise _Unreachable("connection", f"{host} has no address")
        if len(found) > _MAX_ADDRESSES:
            raise _Unreachable("refused-address", f"{host} has {len(found)} addresses")
        for address in found:
            reason = self._policy.refusal(host, port, address)
            if reason is not None:
                raise _Unreachable("refused-address", reason)
        return found

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self.addresses(host, port)
        failure: Exception | None = None
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e
        if failure is None:  # pragma: no cover - addresses() never returns an empty list
            raise _Unreachable("connection", f"{host} has no address")
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise _Unreachable("refused-address", "no Unix sockets for remote servers")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _fetch_error(error: Exception, url: str) -> FetchError:
    if isinstance(error, _Unreachable):
        return FetchError(error.kind, str(error), url=url)
    if isinstance(error, httpcore.TimeoutException):
        what = "connecting" if isinstance(error, httpcore.ConnectTimeout) else "waiting for the server"
        return FetchError("timeout", f"timed out {what}", url=url)
    if isinstance(error, httpcore.UnsupportedProtocol):
        return FetchError("bad-url", str(error) or "unsupported URL", url=url)
    # NetworkError (refused, reset, TLS failures) and ProtocolError (broken HTTP).
    return FetchError("connection", str(error) or type(error).__name__, url=url)


_HTTPCORE_ERRORS = (_Unreachable, httpcore.TimeoutException, httpcore.NetworkError,
                    httpcore.ProtocolError, httpcore.UnsupportedProtocol)


class _Body(httpx.AsyncByteStream):
    """A response body whose httpcore errors arrive as FetchError."""

    def __init__(self, stream: httpcore.Response, url: str) -> None:
        self._response = stream
        self._url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_stream():
                yield chunk
        except _HTTPCORE_ERRORS as e:
            raise _fetch_error(e, self._url) from e

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        except _HTTPCORE_ERRORS as e:
            raise _fetch_error(e, self._url) from e


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over a httpcore pool whose connections go through PinnedBackend."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver, ssl_context: ssl.SSLContext,
                 max_connections: int) -> None:
        # Few idle connections: httpcore checks every pooled connection on each request, and
        # a pool of 200 idle ones (delivering to a thousand hosts) made deliveries 9x slower.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=max_connections,
            max_keepalive_connections=min(max_connections, MAX_IDLE_CONNECTIONS), keepalive_expiry=30.0,
            http1=True, http2=False, network_backend=PinnedBackend(policy, resolver))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if not isinstance(request.stream, httpx.AsyncByteStream):  # pragma: no cover - httpx's own
            raise FetchError("bad-url", "a request body for a synchronous client", url=url)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        try:
            response = await self._pool.handle_async_request(core_request)
        except _HTTPCORE_ERRORS as e:
            raise _fetch_error(e, url) from e
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Body(response, url), extensions=response.extensions)

    async def aclose(self) -> None:
        await self._pool.aclose()
