"""What the outbox tests share: inboxes of many (virtual) hosts served on loopback that record
what they are sent and check its signature, and a node with a hosted person and remote
followers (rows of remote_actors and relations written directly, as the inbox would).

    async with inboxes(clock) as boxes, world(config, clock) as w:
        await w.follower("ann", "a.example", shared=True)
        await w.post("hello")
        await w.expand()
        await w.deliverer(boxes).deliver_due()
        assert boxes.hosts() == ["a.example"]
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from weft.accounts import Account
from weft.config import NodeConfig
from weft.federation.addresses import IPAddress
from weft.federation.delivery import Deliverer
from weft.federation.fetching import FetchClient, FetchSettings
from weft.federation.httpsig import SignatureRejected, parse, verify
from weft.federation.outbox import Expander
from weft.federation.service import Federation
from weft.federation.urls import actor_url, key_id
from weft.node import Node
from weft.site import Site
from weft.store import identities as identity_store
from weft.store import outbox as store
from weft.store.schema import FOLLOW, federation_deliveries, relations, remote_actors

from ..loopback import serve_on_loopback

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "ab" * 32,
       "WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1"}
BASE = "https://weft.test"
LOCAL = FetchSettings(allow_private=True, allow_http=True, total_timeout=10)


async def loopback(_host: str, _port: int) -> Sequence[IPAddress]:
    """Every host name is this machine: one server answers for a thousand hosts."""
    return [ipaddress.ip_address("127.0.0.1")]


def loopback_client(settings: FetchSettings = LOCAL) -> FetchClient:
    return FetchClient(settings, resolver=loopback)


@dataclass(frozen=True)
class Received:
    host: str
    path: str
    body: bytes
    signed_by: str | None       # the key id whose signature verified; None if none did

    @property
    def activity(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


@dataclass
class Inboxes:
    """A server on loopback answering for every host: records POSTs, verifies signatures with
    ``keys`` (key id -> public PEM), answers ``answers.get(host, 202)``."""

    port: int
    clock: Any
    keys: dict[str, str] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)
    retry_after: dict[str, str] = field(default_factory=dict)
    gate: asyncio.Event | None = None  # while set here and not yet set itself, answers wait
    arrived: int = 0                  # POSTs that came in, answered or not yet
    received: list[Received] = field(default_factory=list)   # answered 2xx
    refused: list[Received] = field(default_factory=list)    # answered otherwise

    def inbox(self, host: str, path: str = "/inbox") -> str:
        return f"http://{host}:{self.port}{path}"

    def hosts(self) -> list[str]:
        return sorted(r.host for r in self.received)

    async def handle(self, request: Request) -> Response:
        self.arrived += 1
        body = await request.body()
        host_header = request.headers["host"]
        host = host_header.rsplit(":", 1)[0]
        url = f"http://{host_header}{request.url.path}"
        signed_by: str | None = None
        try:
            signed = parse(method="POST", url=url, headers=dict(request.headers), body=body, now=self.clock())
            if signed.key_id in self.keys:
                verify(signed, self.keys[signed.key_id])
                signed_by = signed.key_id
        except SignatureRejected:
            signed_by = None
        if self.gate is not None:
            await self.gate.wait()
        status = self.answers.get(host, 202)
        seen = Received(host, request.url.path, body, signed_by)
        (self.received if 200 <= status < 300 else self.refused).append(seen)
        headers = {"retry-after": self.retry_after[host]} if host in self.retry_after else {}
        return Response(status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def inboxes(clock: Any) -> AsyncIterator[Inboxes]:
    boxes = Inboxes(0, clock)
    app = Starlette(routes=[Route("/{path:path}", boxes.handle, methods=["POST"])])
    async with serve_on_loopback(app, access_log=False) as port:
        boxes.port = port
        yield boxes


@dataclass
class World:
    node: Node
    site: Site
    federation: Federation
    alice: Account

    @property
    def db(self) -> Any:
        return self.node.db

    async def trust_alice(self, boxes: Inboxes) -> None:
        """Tell the inboxes alice's key, as her actor document would."""
        key = await self.federation.keys.key(self.alice.identity)
        boxes.keys[key_id(actor_url(BASE, "alice"))] = key.public_pem

    async def follower(self, name: str, host: str, boxes: Inboxes, *, shared: bool = True,
                       follows: bool = True) -> str:
        """A remote person on ``host`` (following alice unless ``follows`` is False); their IRI."""
        iri = f"https://{host}/users/{name}"
        async with self.db.write() as conn:
            ident = (await identity_store.ensure_identities(conn, [iri]))[iri]
            await conn.execute(insert(remote_actors).values(
                identity=ident, iri=iri, host=host, kind="Person", inbox=boxes.inbox(host, f"/users/{name}/inbox"),
                shared_inbox=boxes.inbox(host) if shared else None, document=b"{}", fetched_at=self.node.clock()))
            if follows:
                await conn.execute(insert(relations).values(source=ident, kind=FOLLOW, target=self.alice.identity,
                                                            active=True, ts=self.node.clock(), entry=0))
        return iri

    async def post(self, text: str, **fields: Any) -> bytes:
        author = self.site.accounts.author(await self.site.accounts.account(self.alice.id))
        return (await self.node.publish({"type": "post", "text": text, **fields}, author=author)).id

    def expander(self) -> Expander:
        return Expander(self.db, BASE, self.node.clock)

    async def expand(self) -> int:
        expander, total = self.expander(), 0
        while made := await expander.expand_once():
            total += made
        return total

    def deliverer(self, client: FetchClient, **options: Any) -> Deliverer:
        return Deliverer(self.db, self.federation.keys, client, self.node.clock, random=lambda: 0.0, **options)

    async def deliveries(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(federation_deliveries).order_by(federation_deliveries.c.id))
            return [dict(row._mapping) for row in rows.all()]

    async def counts(self) -> dict[str, int]:
        async with self.db.read() as conn:
            return await store.counts(conn)


@contextlib.asynccontextmanager
async def world(config: NodeConfig, clock: Any) -> AsyncIterator[World]:
    async with Node.open(config, clock=clock) as node:
        site = Site.for_node(node, BASE, environ=ENV)
        site.federation = federation = Federation.for_site(site, ENV)
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
        try:
            yield World(node, site, federation, alice)
        finally:
            await federation.close()
            await site.social.close()
