"""Fediverse people held by a node, made as the federation face makes them: a remote_actors
row (plain SQL: the table of migration 0007) and foreign entries through the real ingest
(weft.core.foreign.make_foreign, Ingest.foreign). Shared by the remote-people tests of the
social service, the client API and the web app.

``HeldDirectory`` is a small real RemoteDirectory: it "finds" the actors it was told of by
storing them then, as weft.federation.directory does after a fetch, and counts its calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select

from weft.core.foreign import make_foreign
from weft.core.ids import entry_id_text
from weft.ingest import ForeignOffer, Ingest
from weft.store.database import Database
from weft.store.identities import ensure_identities
from weft.store.schema import remote_actors

HOST = "mastodon.example"
BOB = f"https://{HOST}/users/bob"
SCRIPT_HTML = '<p>hello <a href="https://x.example/">there</a><script>alert(1)</script></p>'


@dataclass(frozen=True)
class Actor:
    """A Fediverse person as their server describes them."""

    iri: str = BOB
    handle: str | None = f"bob@{HOST}"      # None: WebFinger has not agreed yet
    username: str = "bob"
    name: str = "Bob Remote"
    bio_html: str = '<p>Hi, I am <strong>bob</strong><script>steal()</script></p>'
    avatar: str = f"https://files.{HOST}/avatars/bob.png"
    url: str = f"https://{HOST}/@bob"
    locked: bool = False

    @property
    def host(self) -> str:
        return self.iri.split("/")[2]


def offer(content: dict[str, Any], *, author: str, origin: str, ts: int) -> ForeignOffer:
    entry, data = make_foreign(content, author=author, origin=origin, via="signature", ts=ts)
    return ForeignOffer(entry.raw, data)


async def hold_actor(db: Database, ingest: Ingest, actor: Actor, *, ts: int) -> int:
    """Store ``actor`` (its remote_actors row and its profile entry); its identity row."""
    document = {"id": actor.iri, "type": "Person", "preferredUsername": actor.username, "url": actor.url,
                "inbox": f"{actor.iri}/inbox"}
    async with db.write() as conn:
        identity = (await ensure_identities(conn, [actor.iri]))[actor.iri]
        held = (await conn.execute(select(remote_actors.c.identity).where(
            remote_actors.c.identity == identity))).scalar()
        if held is None:
            await conn.execute(remote_actors.insert(), [{
                "identity": identity, "iri": actor.iri, "host": actor.host, "kind": "Person",
                "inbox": f"{actor.iri}/inbox", "shared_inbox": f"https://{actor.host}/inbox",
                "followers": f"{actor.iri}/followers", "key_id": f"{actor.iri}#main-key",
                "public_key_pem": None, "handle": actor.handle, "moved_to": None,
                "document": orjson.dumps(document), "fetched_at": ts}])
    profile = {"type": "profile", "name": actor.name, "bio": "Hi, I am bob", "bio_html": actor.bio_html,
               "avatar": actor.avatar, "fields": [["Site", "https://bob.example"]], "locked": actor.locked,
               "bot": False}
    [outcome] = await ingest.foreign([offer(profile, author=actor.iri, origin=f"{actor.iri}#profile-{ts}", ts=ts)])
    assert outcome.status in ("stored", "duplicate"), outcome
    return identity


async def remote_post(ingest: Ingest, actor: Actor, number: int, *, ts: int, html: str = SCRIPT_HTML,
                      text: str = "hello there", **extra: Any) -> str:
    """A public post of ``actor`` (origin ``{iri}/statuses/{number}``); its entry id."""
    origin = f"{actor.iri}/statuses/{number}"
    content = {"type": "post", "text": text, "html": html, "url": f"https://{actor.host}/@bob/{number}",
               "visibility": "public", **extra}
    [outcome] = await ingest.foreign([offer(content, author=actor.iri, origin=origin, ts=ts)])
    assert outcome.status == "stored" and outcome.entry_id is not None, outcome
    return entry_id_text(outcome.entry_id)


async def answer_follow(ingest: Ingest, actor: Actor, follower_did: str, *, accept: bool, ts: int) -> None:
    """``actor``'s Accept (or Reject) of a follow by ``follower_did``, as a foreign entry."""
    kind = "follow_accept" if accept else "follow_reject"
    [outcome] = await ingest.foreign([offer({"type": kind, "target": follower_did}, author=actor.iri,
                                            origin=f"{actor.iri}#{kind}-{ts}", ts=ts)])
    assert outcome.status == "stored", outcome


@dataclass
class HeldDirectory:
    """A RemoteDirectory over a fixed set of actors, stored when first resolved."""

    db: Database
    ingest: Ingest
    actors: list[Actor]
    now: Any
    calls: list[str] = field(default_factory=list)

    async def resolve(self, query: str) -> int | None:
        self.calls.append(query)
        wanted = query.lower().removeprefix("@")
        for actor in self.actors:
            if wanted in {(actor.handle or "").lower(), actor.iri.lower(), actor.url.lower()}:
                return await hold_actor(self.db, self.ingest, actor, ts=self.now())
        return None
