"""Outgoing federation HTTP against real servers on 127.0.0.1: what is fetched and delivered,
and what a hostile or broken server cannot make weft do (connect where it must not, read
without end, wait without end, follow redirects without end)."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
from collections.abc import Mapping, Sequence

import orjson
import pytest

from weft.federation.addresses import IPAddress, parse_allowed
from weft.federation.fetching import FetchClient, FetchSettings
from weft.federation.fetching_body import AS2_ACCEPT
from weft.federation.fetching_errors import FetchError, FetchErrorKind

from .rawhttp import Respond, Seen, raw_server, reply

LOCAL = FetchSettings(allow_private=True, allow_http=True)
ACTOR = {"id": "https://social.example/users/alice", "type": "Person", "inbox": "/inbox"}
AS2 = {"content-type": "application/activity+json"}


def document(body: object = ACTOR, headers: Mapping[str, str] = AS2, status: int = 200) -> Respond:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(status, headers, orjson.dumps(body)))
    return respond


def routes(table: Mapping[str, bytes]) -> Respond:
    async def respond(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(table.get(request.target, reply(404)))
    return respond


async def failure(client: FetchClient, url: str, kind: FetchErrorKind) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await client.fetch(url)
    assert caught.value.kind == kind, caught.value
    return caught.value


async def test_an_actor_is_fetched_as_activity_streams() -> None:
    async with raw_server(document()) as server, FetchClient(LOCAL) as client:
        fetched = await client.fetch(server.url("/users/alice"))
    assert fetched.document == ACTOR
    assert fetched.url == server.url("/users/alice")
    [request] = server.seen
    assert (request.method, request.target) == ("GET", "/users/alice")
    assert request.headers["accept"] == AS2_ACCEPT
    assert request.headers["accept-encoding"] == "gzip"
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["user-agent"] == "weft"


@pytest.mark.parametrize("content_type", [
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    'application/ld+json;charset=utf-8;profile="https://example.org/x https://www.w3.org/ns/activitystreams"',
    "Application/Activity+JSON; charset=utf-8",
])
async def test_each_activity_streams_type_is_read(content_type: str) -> None:
    async with raw_server(document(headers={"content-type": content_type})) as server, \
            FetchClient(LOCAL) as client:
        assert (await client.fetch(server.url())).document == ACTOR


@pytest.mark.parametrize("headers", [
    {"content-type": "application/json"},
    {"content-type": "application/ld+json"},
    {"content-type": 'application/ld+json; profile="https://example.org/other"'},
    {"content-type": "text/html; charset=utf-8"},
    {},
])
async def test_a_document_of_another_type_is_refused(headers: dict[str, str]) -> None:
    async with raw_server(document(headers=headers)) as server, FetchClient(LOCAL) as client:
        error = await failure(client, server.url(), "bad-content-type")
    assert not error.retryable


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"a string"'])
async def test_a_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, AS2, body))
    async with raw_server(respond) as server, FetchClient(LOCAL) as client:
        await failure(client, server.url(), "bad-body")


async def test_a_body_declared_too_large_is_refused_before_it_is_read() -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        # The body never comes: only the declared length can end this fetch.
        writer.write(reply(200, {**AS2, "content-length": str(2 * 1024 * 1024)}))
    async with raw_server(respond) as server, FetchClient(LOCAL) as client:
        await failure(client, server.url(), "too-large")


async def test_an_endless_body_is_cut_off_at_the_limit() -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/activity+json\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        while True:  # until the client hangs up
            writer.write(chunk)
            await writer.drain()
    settings = FetchSettings(allow_private=True, allow_http=True, max_document_bytes=100_000)
    async with raw_server(respond) as server, FetchClient(settings) as client:
        error = await failure(client, server.url(), "too-large")
    assert "100000" in str(error)


async def test_a_gzip_bomb_is_cut_off_after_decompression() -> None:
    bomb = gzip.compress(b" " * 20_000_000)
    settings = FetchSettings(allow_private=True, allow_http=True, max_document_bytes=1_000_000)
    assert len(bomb) < settings.max_document_bytes

    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, {**AS2, "content-encoding": "gzip"}, bomb))
    async with raw_server(respond) as server, FetchClient(settings) as client:
        await failure(client, server.url(), "too-large")


async def test_a_gzip_body_is_decoded() -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, {**AS2, "content-encoding": "gzip"}, gzip.compress(orjson.dumps(ACTOR))))
    async with raw_server(respond) as server, FetchClient(LOCAL) as client:
        assert (await client.fetch(server.url())).document == ACTOR


async def test_a_trickling_server_is_given_up_on_at_the_total_time() -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        # Each byte comes well within the read timeout; only the whole exchange's limit ends it.
        writer.write(reply(200, {**AS2, "content-length": "100000"}))
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.02)
    settings = FetchSettings(allow_private=True, allow_http=True, total_timeout=0.5)
    async with raw_server(respond) as server, FetchClient(settings) as client:
        error = await failure(client, server.url(), "timeout")
    assert error.retryable


async def test_a_server_that_never_answers_times_out() -> None:
    async def respond(_request: Seen, _writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()
    settings = FetchSettings(allow_private=True, allow_http=True, total_timeout=0.3)
    async with raw_server(respond) as server, FetchClient(settings) as client:
        await failure(client, server.url(), "timeout")
        with pytest.raises(FetchError) as caught:
            await client.deliver(server.url("/inbox"), b"{}")
    assert caught.value.kind == "timeout"


async def test_redirects_are_followed_and_each_hop_signed_for_itself() -> None:
    signed: list[tuple[str, str]] = []

    def signer(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
        signed.append((method, url))
        return {"signature": f"for {url}"}

    async with raw_server(routes({
        "/old": reply(301, {"location": "/older"}),
        "/older": reply(302, {"location": "/actor"}),
        "/actor": reply(200, AS2, orjson.dumps(ACTOR)),
    })) as server, FetchClient(LOCAL, signer=signer) as client:
        fetched = await client.fetch(server.url("/old"))
    assert fetched.url == server.url("/actor")
    assert signed == [("GET", server.url(path)) for path in ("/old", "/older", "/actor")]
    assert [r.headers["signature"] for r in server.seen] == [f"for {server.url(p)}" for p in
                                                             ("/old", "/older", "/actor")]


async def test_a_redirect_loop_ends_after_the_allowed_redirects() -> None:
    async with raw_server(routes({"/a": reply(302, {"location": "/b"}),
                                  "/b": reply(302, {"location": "/a"})})) as server, \
            FetchClient(LOCAL) as client:
        error = await failure(client, server.url("/a"), "too-many-redirects")
    assert len(server.seen) == LOCAL.max_redirects + 1
    assert not error.retryable


async def test_a_redirect_to_an_address_not_allowed_is_refused() -> None:
    async with raw_server(document()) as inside:
        async with raw_server(routes({
            "/to-other-port": reply(302, {"location": inside.url("/secret")}),
            "/to-localhost": reply(302, {"location": inside.url("/secret", host="localhost")}),
            "/to-file": reply(302, {"location": "file:///etc/passwd"}),
        })) as outside:
            # Only the first server's host and port are opened, as a LAN relay would be.
            settings = FetchSettings(allow_http=True, allowed_hosts=parse_allowed([f"127.0.0.1:{outside.port}"]))
            async with FetchClient(settings) as client:
                await failure(client, outside.url("/to-other-port"), "refused-address")
                await failure(client, outside.url("/to-localhost"), "refused-address")
                await failure(client, outside.url("/to-file"), "bad-url")
        assert inside.connections == 0
        assert len(outside.seen) == 3


@pytest.mark.parametrize(("status", "retryable"), [(410, False), (404, False), (401, False),
                                                    (500, True), (503, True), (429, True)])
async def test_an_error_status_is_kept(status: int, retryable: bool) -> None:
    async with raw_server(document({"error": "x"}, status=status, headers={**AS2, "retry-after": "120"})) \
            as server, FetchClient(LOCAL) as client:
        error = await failure(client, server.url(), "status")
        with pytest.raises(FetchError) as delivered:
            await client.deliver(server.url("/inbox"), b"{}")
    assert error.status == delivered.value.status == status
    assert error.gone == (status == 410)
    assert error.retryable == retryable
    assert error.retry_after == 120


async def test_private_addresses_are_refused_unless_allowed() -> None:
    async with raw_server(document()) as server:
        async with FetchClient(FetchSettings(allow_http=True)) as client:
            for host in ("127.0.0.1", "localhost", "127.1", "[::ffff:127.0.0.1]"):
                error = await failure(client, server.url(host=host), "refused-address")
                assert "loopback" in str(error)
        assert server.connections == 0
        async with FetchClient(LOCAL) as client:
            assert (await client.fetch(server.url())).document == ACTOR


async def test_an_allowed_host_is_reached_on_its_port_alone() -> None:
    async with raw_server(document()) as allowed, raw_server(document()) as other:
        settings = FetchSettings(allow_http=True, allowed_hosts=parse_allowed([f"127.0.0.1:{allowed.port}"]))
        async with FetchClient(settings) as client:
            assert (await client.fetch(allowed.url())).document == ACTOR
            await failure(client, other.url(), "refused-address")
    assert other.connections == 0


class Resolver:
    """A DNS of the test's own: names to addresses, and how often each was asked."""

    def __init__(self, names: Mapping[str, Sequence[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.names[host]]


async def test_a_name_is_connected_to_at_the_address_that_was_checked() -> None:
    # social.test exists in no DNS: reaching the server proves the connection went to the
    # address the resolver gave the check, while the request still names the host.
    resolver = Resolver({"social.test": ["127.0.0.1"]})
    async with raw_server(document()) as server, FetchClient(LOCAL, resolver=resolver) as client:
        await client.fetch(server.url("/a", host="social.test"))
        await client.fetch(server.url("/b", host="social.test"))
    assert [r.headers["host"] for r in server.seen] == [f"social.test:{server.port}"] * 2
    assert resolver.asked == ["social.test"] * server.connections


async def test_a_name_with_any_refused_address_is_refused() -> None:
    resolver = Resolver({"mixed.test": ["93.184.215.14", "127.0.0.1"], "public.test": ["93.184.215.14"]})
    async with raw_server(document()) as server, \
            FetchClient(FetchSettings(allow_http=True), resolver=resolver) as client:
        await failure(client, server.url(host="mixed.test"), "refused-address")
    assert server.connections == 0


async def test_http_needs_the_setting_and_other_urls_are_refused_before_any_connection() -> None:
    async with raw_server(document()) as server, \
            FetchClient(FetchSettings(allow_private=True)) as client:
        await failure(client, server.url(), "bad-url")
        for url in ("ftp://example.org/x", "https://user:secret@example.org/", "https:///path",
                    "file:///etc/passwd", "https://exa mple.org/"):
            await failure(client, url, "bad-url")
    assert server.connections == 0


async def test_a_closed_port_is_a_connection_error_worth_retrying() -> None:
    async with raw_server(document()) as server:
        url = server.url()
    async with FetchClient(LOCAL) as client:
        error = await failure(client, url, "connection")
    assert error.retryable


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after": "Wed, 21 Oct 2026 07:30:00 GMT", "date": "Wed, 21 Oct 2026 07:28:00 GMT"}, 120.0),
    ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT", "date": "Wed, 21 Oct 2026 07:30:00 GMT"}, 0.0),
    ({"retry-after": "next tuesday"}, None),
    ({"retry-after": "-5"}, None),
])
async def test_retry_after_is_read_in_either_form(headers: dict[str, str], expected: float | None) -> None:
    """The HTTP-date form is measured against the server's own Date, so clocks need not agree."""
    async with raw_server(document({"error": "x"}, status=503, headers={**AS2, **headers})) \
            as server, FetchClient(LOCAL) as client:
        error = await failure(client, server.url(), "status")
    assert error.retry_after == expected
