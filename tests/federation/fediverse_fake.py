"""A small Fediverse server on loopback for the inbox and remote-actor tests: actors with RSA
keys (which a test may rotate, or make gone), WebFinger, objects, and deliveries to a weft
node's inboxes signed as Mastodon signs them (weft.federation.httpsig.sign).

    async with FakeServer.serving() as remote:
        bob = remote.add_actor("bob")
        response = await remote.deliver(bob, f"{node_url}/inbox", remote.create_note(bob, "hi"))
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from weft.federation.as2_build import CONTEXT
from weft.federation.as2_build_actors import ActorFields, person
from weft.federation.httpsig import generate_rsa_key, public_key_pem, sign

from ..loopback import serve_on_loopback

AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _key() -> rsa.RSAPrivateKey:
    return generate_rsa_key()


@dataclass
class FakeActor:
    name: str
    iri: str
    key: rsa.RSAPrivateKey
    display_name: str = ""
    summary: str = ""
    locked: bool = False
    username: str | None = None          # preferredUsername, when a test makes it lie
    gone: bool = False
    also_known_as: list[str] = field(default_factory=list)   # the accounts it moves from

    @property
    def key_id(self) -> str:
        return f"{self.iri}#main-key"

    @property
    def followers(self) -> str:
        return f"{self.iri}/followers"

    def rotate(self) -> rsa.RSAPrivateKey:
        """A new key (the old one stops verifying); returns the old one."""
        old, self.key = self.key, _key()
        return old


@dataclass
class FakeServer:
    url: str = ""
    actors: dict[str, FakeActor] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)   # paths of the GETs served, in order
    aliases: dict[str, FakeActor] = field(default_factory=dict)   # WebFinger names that lie
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)   # (inbox path, activity) POSTed
    # The weft nodes delivered to, by base URL: a delivery one of them takes (202) returns once
    # its inbox queue has mapped it, so that a test reads what the activity made.
    weft_nodes: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def add_actor(self, name: str, **fields: Any) -> FakeActor:
        actor = self.actors[name] = FakeActor(name, f"{self.url}/users/{name}", _key(), **fields)
        return actor

    def actor_document(self, actor: FakeActor) -> dict[str, Any]:
        return person(ActorFields(
            id=actor.iri, username=actor.username or actor.name, inbox=f"{actor.iri}/inbox",
            outbox=f"{actor.iri}/outbox", followers=actor.followers, following=f"{actor.iri}/following",
            public_key_pem=public_key_pem(actor.key), shared_inbox=f"{self.url}/inbox",
            name=actor.display_name or actor.name.title(), summary=actor.summary or None,
            manually_approves_followers=actor.locked, also_known_as=tuple(actor.also_known_as)))

    def next_id(self, actor: FakeActor, what: str) -> str:
        return f"{actor.iri}/{what}/{next(self._ids)}"

    # -- documents a test delivers -----------------------------------------------------

    def note(self, actor: FakeActor, html: str, *, to: list[str] | None = None, cc: list[str] | None = None,
             tags: list[dict[str, Any]] | None = None, in_reply_to: str | None = None,
             published: str = "2026-01-02T03:04:05Z", served: bool = True) -> dict[str, Any]:
        note_id = self.next_id(actor, "statuses")
        note = {"@context": CONTEXT, "id": note_id, "type": "Note", "attributedTo": actor.iri, "content": html,
                "to": to if to is not None else [PUBLIC], "cc": cc if cc is not None else [actor.followers],
                "tag": tags or [], "published": published, "url": note_id, "inReplyTo": in_reply_to}
        if served:
            self.objects[note_id] = note
        return note

    def create(self, actor: FakeActor, note: dict[str, Any]) -> dict[str, Any]:
        body = {key: value for key, value in note.items() if key != "@context"}
        return {"@context": CONTEXT, "id": f"{note['id']}/activity", "type": "Create", "actor": actor.iri,
                "to": note["to"], "cc": note["cc"], "object": body, "published": note["published"]}

    def activity(self, actor: FakeActor, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        return {"@context": CONTEXT, "id": self.next_id(actor, kind.lower()), "type": kind, "actor": actor.iri,
                "object": obj, **extra}

    # -- delivering --------------------------------------------------------------------

    async def deliver(self, actor: FakeActor, inbox: str, activity: dict[str, Any] | bytes, *,
                      key: rsa.RSAPrivateKey | None = None, key_id: str | None = None,
                      content_type: str = AS2, signed: bool = True) -> httpx.Response:
        body = activity if isinstance(activity, bytes) else orjson.dumps(activity)
        headers = {"content-type": content_type}
        if signed:
            headers |= sign(method="POST", url=inbox, headers=headers, body=body, private_key=key or actor.key,
                            key_id=key_id or actor.key_id, now=int(time.time() * 1000))
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(inbox, content=body, headers=headers)
        settled = next((wait for base, wait in self.weft_nodes.items() if inbox.startswith(f"{base}/")), None)
        if settled is not None and response.status_code == 202:
            await settled()
        return response

    # -- serving -----------------------------------------------------------------------

    def app(self) -> Starlette:
        async def actor(request: Request) -> Response:
            self.requests.append(request.url.path)
            found = self.actors.get(request.path_params["name"])
            if found is None:
                return JSONResponse({"error": "no such actor"}, status_code=404)
            if found.gone:
                return JSONResponse({"error": "gone"}, status_code=410)
            return JSONResponse(self.actor_document(found), media_type=AS2)

        async def webfinger(request: Request) -> Response:
            self.requests.append(request.url.path)
            resource = request.query_params.get("resource", "")
            user, _, host = resource.removeprefix("acct:").rpartition("@")
            found = self.aliases.get(user) or next(
                (a for a in self.actors.values() if (a.username or a.name) == user), None)
            if found is None or host != self.host:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse({"subject": f"acct:{user}@{self.host}",
                                 "links": [{"rel": "self", "type": AS2, "href": found.iri}]},
                                media_type="application/jrd+json")

        async def obj(request: Request) -> Response:
            self.requests.append(request.url.path)
            found = self.objects.get(str(request.url).split("?")[0])
            return JSONResponse(found, media_type=AS2) if found else JSONResponse({}, status_code=404)

        async def inbox(request: Request) -> Response:
            # Deliveries are kept as they came, unverified: tests read what reached whom.
            self.received.append((request.url.path, orjson.loads(await request.body())))
            return Response(status_code=202)

        return Starlette(routes=[Route("/users/{name}", actor), Route("/.well-known/webfinger", webfinger),
                                 Route("/inbox", inbox, methods=["POST"]),
                                 Route("/users/{name}/inbox", inbox, methods=["POST"]),
                                 Route("/users/{name}/{rest:path}", obj)])

    @classmethod
    @contextlib.asynccontextmanager
    async def serving(cls) -> AsyncIterator[FakeServer]:
        remote = cls()
        async with serve_on_loopback(remote.app()) as port:   # the handlers read url when asked
            remote.url = f"http://127.0.0.1:{port}"
            yield remote
