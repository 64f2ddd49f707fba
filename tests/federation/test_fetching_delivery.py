"""Deliveries, signing, fairness between hosts, and TLS to a pinned address, against real
servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from weft.federation.addresses import IPAddress
from weft.federation.fetching import FetchClient, FetchSettings, Signer
from weft.federation.fetching_errors import FetchError

from .rawhttp import Seen, raw_server, reply

LOCAL = FetchSettings(allow_private=True, allow_http=True)
AS2 = {"content-type": "application/activity+json"}
ACTIVITY = orjson.dumps({"type": "Like", "actor": "https://a.example/u/al", "object": "https://b.example/n/1"})


async def accepted(_request: Seen, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(202, {"content-type": "text/plain"}, b"queued"))


async def test_a_delivery_is_signed_over_exactly_what_is_sent() -> None:
    calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def signer(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
        calls.append((method, url, dict(headers), body))
        return {"signature": 'keyId="k",signature="s"', "digest": "SHA-256=x", "date": "now"}

    async with raw_server(accepted) as server, FetchClient(LOCAL) as client:
        status = await client.deliver(server.url("/users/bob/inbox"), ACTIVITY, signer=signer)
    assert status == 202
    [(method, url, headers, body)] = calls
    assert (method, url, body) == ("POST", server.url("/users/bob/inbox"), ACTIVITY)
    [request] = server.seen
    assert (request.method, request.target, request.body) == ("POST", "/users/bob/inbox", ACTIVITY)
    # The signer saw every header that went out, and what it returned went out too.
    assert headers.items() <= request.headers.items()
    assert {"host", "content-type", "content-length"} <= headers.keys()
    assert headers["content-type"] == "application/activity+json"
    assert request.headers["signature"] == 'keyId="k",signature="s"'
    assert request.headers["digest"] == "SHA-256=x"


async def test_a_signer_given_per_request_wins_over_the_clients() -> None:
    def named(name: str) -> Signer:
        def signer(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
            return {"signature": name}
        return signer

    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, AS2, b"{}"))
    async with raw_server(respond) as server, FetchClient(LOCAL, signer=named("instance")) as client:
        await client.fetch(server.url())
        await client.deliver(server.url("/inbox"), ACTIVITY, signer=named("alice"))
        await client.deliver(server.url("/inbox"), ACTIVITY)
    assert [r.headers["signature"] for r in server.seen] == ["instance", "alice", "instance"]


async def test_a_delivery_follows_only_redirects_that_keep_its_method() -> None:
    async def respond(request: Seen, writer: asyncio.StreamWriter) -> None:
        moved = {"/kept": reply(308, {"location": "/inbox"}), "/lost": reply(302, {"location": "/inbox"})}
        writer.write(moved.get(request.target, reply(202)))
    async with raw_server(respond) as server, FetchClient(LOCAL) as client:
        assert await client.deliver(server.url("/kept"), ACTIVITY) == 202
        with pytest.raises(FetchError) as caught:
            await client.deliver(server.url("/lost"), ACTIVITY)
    assert (caught.value.kind, caught.value.status) == ("status", 302)
    assert [(r.method, r.target, r.body) for r in server.seen] == [
        ("POST", "/kept", ACTIVITY), ("POST", "/inbox", ACTIVITY), ("POST", "/lost", ACTIVITY)]


async def test_a_large_answer_to_a_delivery_does_not_fail_it() -> None:
    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, {"content-type": "text/html"}, b"<p>" * 100_000))
    async with raw_server(respond) as server, FetchClient(LOCAL) as client:
        assert await client.deliver(server.url("/inbox"), ACTIVITY) == 200


async def test_fetches_from_one_host_are_rate_limited_and_deliveries_are_not() -> None:
    settings = FetchSettings(allow_private=True, allow_http=True, fetches_per_host=2,
                             fetch_period=3600, max_rate_wait=0)

    async def respond(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, AS2, b"{}") if request.method == "GET" else reply(202))
    async with raw_server(respond) as server, FetchClient(settings) as client:
        await client.fetch(server.url("/1"))
        await client.fetch(server.url("/2"))
        with pytest.raises(FetchError) as caught:
            await client.fetch(server.url("/3"))
        assert await client.deliver(server.url("/inbox"), ACTIVITY) == 202
    assert caught.value.kind == "rate-limited" and caught.value.retryable
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert [r.target for r in server.seen] == ["/1", "/2", "/inbox"]


async def test_a_fetch_waits_for_its_token_when_the_wait_is_short() -> None:
    settings = FetchSettings(allow_private=True, allow_http=True, fetches_per_host=1,
                             fetch_period=0.1, max_rate_wait=5)

    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, AS2, b"{}"))
    async with raw_server(respond) as server, FetchClient(settings) as client:
        for path in ("/1", "/2", "/3"):
            await client.fetch(server.url(path))
    assert len(server.seen) == 3


async def test_requests_in_flight_to_one_host_are_limited() -> None:
    settings = FetchSettings(allow_private=True, allow_http=True, per_host_connections=2)
    in_flight, most = 0, 0
    release = asyncio.Event()
    two_arrived = asyncio.Event()

    async def respond(_request: Seen, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == 2:
            two_arrived.set()
        await release.wait()
        in_flight -= 1
        writer.write(reply(202))

    async with raw_server(respond) as server, FetchClient(settings) as client:
        deliveries = [asyncio.create_task(client.deliver(server.url("/inbox"), ACTIVITY)) for _ in range(5)]
        await two_arrived.wait()
        await asyncio.sleep(0.1)  # room for a third request, were it let through
        assert in_flight == 2
        release.set()
        assert await asyncio.gather(*deliveries) == [202] * 5
    assert most == 2
    assert len(client._slots) == 0  # the per-host map holds nothing once nothing is in flight


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_https_to_the_pinned_address_checks_the_certificate_for_the_name(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "social.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))

    async def resolver(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    async def respond(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(200, AS2, orjson.dumps({"host": request.headers["host"]})))

    async with raw_server(respond, tls=server_tls) as server, \
            FetchClient(FetchSettings(allow_private=True), resolver=resolver, ssl_context=client_tls) as client:
        fetched = await client.fetch(server.url(host="social.test"))
        # The same address under another name: the certificate does not name it, so no.
        with pytest.raises(FetchError) as caught:
            await client.fetch(server.url(host="other.test"))
    assert fetched.document == {"host": f"social.test:{server.port}"}
    assert caught.value.kind == "connection"
    assert "certificate" in str(caught.value).lower()
