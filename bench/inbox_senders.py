"""The Fediverse side of bench_inbox: remote actors with RSA-2048 keys, the small server that
publishes them (actor documents, WebFinger, inboxes that take the node's Follows), their
signed Create(Note) deliveries built ahead of time, and a lean HTTP/1.1 client that sends
prepared requests over keep-alive connections.

The client is the same for the trivial endpoint and for the inbox, so the two rates differ
only by what the server does. It writes bytes built before timing and reads the status
line and Content-Length: a few tens of microseconds a request, far below what it measures.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from weft.federation.as2_build import CONTEXT
from weft.federation.as2_build_actors import ActorFields, person
from weft.federation.httpsig import generate_rsa_key, public_key_pem, sign

__all__ = ["LoadResult", "Sender", "SenderServer", "get_request", "load", "signed_post"]

AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# About 500 bytes of text, as a post of a paragraph or two is.
PARAGRAPH = ("Wove a few more rows of the long scarf tonight; the pattern finally makes sense once "
             "you stop counting and start looking at what the threads are doing. ")


@dataclass
class Sender:
    """One remote actor: its IRI (``http://HOST:PORT/users/NAME``) and signing key."""

    host: str          # s3.test:41234
    name: str
    key: rsa.RSAPrivateKey = field(default_factory=generate_rsa_key, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def iri(self) -> str:
        return f"http://{self.host}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.iri}#main-key"

    def document(self) -> dict[str, Any]:
        return person(ActorFields(
            id=self.iri, username=self.name, inbox=f"{self.iri}/inbox", outbox=f"{self.iri}/outbox",
            followers=f"{self.iri}/followers", following=f"{self.iri}/following",
            public_key_pem=public_key_pem(self.key), shared_inbox=f"http://{self.host}/inbox",
            name=self.name.title(), summary="<p>Sends notes to a weft inbox, quickly.</p>"))

    def create_note(self, number: int, mention: tuple[str, str] | None) -> dict[str, Any]:
        """A Create(Note) in Mastodon's shape: ~500 bytes of HTML; every third one with a
        hashtag, and, given ``mention`` (actor IRI, handle), naming that person."""
        status = f"{self.iri}/statuses/{number}"
        published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tags: list[dict[str, Any]] = []
        html = f"<p>{PARAGRAPH * 3}(note {number})</p>"
        cc = [f"{self.iri}/followers"]
        if mention is not None:
            iri, handle = mention
            tags.append({"type": "Mention", "href": iri, "name": f"@{handle}"})
            html = f'<p><span class="h-card"><a href="{iri}" class="u-url mention">@{handle}</a></span> {html[3:]}'
            cc.append(iri)
        if number % 3 == 0:
            tags.append({"type": "Hashtag", "href": f"http://{self.host}/tags/weaving", "name": "#weaving"})
            html = html.removesuffix("</p>") + ' <a href="#" class="mention hashtag">#<span>weaving</span></a></p>'
        note = {"id": status, "type": "Note", "summary": None, "inReplyTo": None, "published": published,
                "url": f"http://{self.host}/@{self.name}/{number}", "attributedTo": self.iri,
                "to": [PUBLIC], "cc": cc, "sensitive": False, "content": html, "contentMap": {"en": html},
                "attachment": [], "tag": tags}
        return {"@context": CONTEXT, "id": f"{status}/activity", "type": "Create", "actor": self.iri,
                "published": published, "to": [PUBLIC], "cc": cc, "object": note}

    def accept(self, follow_by: str) -> dict[str, Any]:
        return {"@context": CONTEXT, "id": f"{self.iri}#accepts/{next(self._ids)}", "type": "Accept",
                "actor": self.iri, "object": {"type": "Follow", "actor": follow_by, "object": self.iri}}


class SenderServer:
    """Serves the senders' actor documents and WebFinger under every host name, and takes
    what the node delivers (its Follows) with 202, counting them."""

    def __init__(self, senders: list[Sender]) -> None:
        self.by_path = {f"/users/{sender.name}": sender for sender in senders}
        self.received = 0
        self.app = Starlette(routes=[
            Route("/.well-known/webfinger", self._webfinger),
            Route("/users/{name}", self._actor),
            Route("/{path:path}", self._deliver, methods=["POST"]),
        ])

    async def _actor(self, request: Request) -> Response:
        sender = self.by_path.get(request.url.path)
        if sender is None:
            return Response(status_code=404)
        return Response(orjson.dumps(sender.document()), media_type=AS2)

    async def _webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        user, _, host = resource.removeprefix("acct:").partition("@")
        sender = self.by_path.get(f"/users/{user}")
        if sender is None or sender.host != host:
            return Response(status_code=404)
        return JSONResponse({"subject": f"acct:{user}@{host}",
                             "links": [{"rel": "self", "type": AS2, "href": sender.iri}]},
                            media_type="application/jrd+json")

    async def _deliver(self, request: Request) -> Response:
        await request.body()
        self.received += 1
        return Response(status_code=202)


def signed_post(url_host: str, path: str, sender: Sender, activity: dict[str, Any]) -> bytes:
    """The whole HTTP/1.1 request delivering ``activity`` to ``path``, signed now as
    Mastodon signs (draft-cavage rsa-sha256 over (request-target) host date digest)."""
    body = orjson.dumps(activity)
    headers = [("Content-Type", AS2)]
    signed = sign(method="POST", url=f"http://{url_host}{path}", headers=headers, body=body,
                  private_key=sender.key, key_id=sender.key_id, now=int(time.time() * 1000))
    lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in signed.items()),
             f"Content-Type: {AS2}", f"Content-Length: {len(body)}", "User-Agent: bench_inbox", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def get_request(url_host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {url_host}\r\nUser-Agent: bench_inbox\r\n\r\n".encode("latin-1")


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("the load client reads Content-Length bodies only")
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, queues: list[list[bytes]] | None = None, *, repeat: bytes | None = None,
               connections: int = 8, seconds: float = 0.0) -> LoadResult:
    """Send over keep-alive connections to 127.0.0.1:``port``: one connection for each list
    of ``queues``, once through, or ``connections`` sending ``repeat`` for ``seconds``.
    Timed from the first request to the last answer."""
    if (queues is None) == (repeat is None):
        raise ValueError("load sends either queues (each connection its own) or one request repeated")
    if queues is not None:
        connections = len(queues)
    statuses: dict[int, int] = {}
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    deadline = 0.0

    async def connection(index: int) -> int:
        reader, writer = streams[index]
        done = 0
        if queues is not None:
            for request in queues[index]:
                status = await _exchange(reader, writer, request)
                statuses[status] = statuses.get(status, 0) + 1
                done += 1
        elif repeat is not None:
            while time.perf_counter() < deadline:
                status = await _exchange(reader, writer, repeat)
                statuses[status] = statuses.get(status, 0) + 1
                done += 1
        return done

    began = time.perf_counter()
    deadline = began + seconds
    counts = await asyncio.gather(*(connection(index) for index in range(connections)))
    elapsed = time.perf_counter() - began
    for _, writer in streams:
        writer.close()
    return LoadResult(sum(counts), elapsed, statuses)
