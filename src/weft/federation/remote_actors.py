"""Remote actors: fetched (signed, as authorized-fetch servers want), checked, cached a day,
and their profiles ingested as foreign ``profile`` entries.

    actor = await federation.actors.actor("https://mastodon.example/users/bob")
    iri, pem = await federation.actors.key_for("https://mastodon.example/users/bob#main-key")
    actor = await federation.actors.resolve_handle("bob@mastodon.example")

Trust follows Mastodon's rules:

- a document is what its ``id`` says only if that id is where it was fetched from, after
  redirects; a document whose id names another URL on the same host is fetched again at
  that id, once, and must then agree (another host may not speak for it);
- a key is an actor's only if the actor document lists it (a key fetched on its own must
  name the actor as ``owner``, and the actor must list the key back);
- a handle ``user@domain`` is an actor's only if WebFinger at that domain names the actor
  and the actor's ``preferredUsername`` at its own host's WebFinger gives the same handle
  back (so a server cannot claim handles of another domain).

Profiles: each fetch that finds a changed profile ingests a ``profile`` entry by the actor,
via ``fetch``, whose origin is the actor IRI with ``#profile-<hash of the profile>``
(weft.federation.remote_actors_documents.profile_origin): an unchanged profile fetched
again is a duplicate, a changed one a newer profile.

Concurrent requests for one IRI share one fetch. Every failure is a RemoteActorError.

Rows read or written here are also kept in memory for MEMORY_MS (a busy inbox checks the
same few senders' keys on every delivery, and reading the row each time cost more than
verifying the signature). Another process sharing the database (a worker on PostgreSQL)
may refetch an actor meanwhile; a key it rotated shows here as a mismatch, which fetches
the key again anyway.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import orjson

from weft.core.foreign import make_foreign
from weft.errors import WeftError
from weft.federation.activitystreams import ActivityStreamsError, ASObject, parse_object
from weft.federation.fetching import FetchedDocument
from weft.federation.fetching_errors import FetchError
from weft.federation.media import want_images
from weft.federation.remote_actors_documents import (
    actor_facts,
    profile_content,
    profile_origin,
    same_host,
)
from weft.ingest_foreign import ForeignOffer
from weft.store import remote_actors as actor_store
from weft.store.remote_actors import RemoteActorRow

if TYPE_CHECKING:
    from weft.federation.service import Federation

__all__ = ["CACHE_MS", "MEMORY_MS", "RemoteActor", "RemoteActorError", "RemoteActors"]

CACHE_MS: Final = 24 * 3600 * 1000   # an actor fetched less than a day ago is not fetched again
MEMORY_MS: Final = 60 * 1000         # a row read here is used again without reading it for a minute
_MEMORY_ROWS: Final = 4096
_JRD_ACCEPT: Final = "application/jrd+json, application/json"
_SELF_TYPES: Final = ("application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
_MAX_WEBFINGER_BYTES: Final = 64 * 1024

RemoteActor = RemoteActorRow
T = TypeVar("T")


class RemoteActorError(WeftError):
    """A remote actor, key, object or handle could not be had or could not be trusted.
    ``gone`` when its server said 410 Gone (a deleted actor)."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


def _failed(what: str, error: Exception) -> RemoteActorError:
    gone = isinstance(error, FetchError) and error.gone
    return RemoteActorError(f"{what}: {error}", gone=gone)


def _json_document(content_type: str | None) -> bool:
    return content_type is not None and "json" in content_type.lower()


class RemoteActors:
    """Remote actors, keys, objects and handles for one site (``site.federation.actors``)."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self._inflight: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self._memory: OrderedDict[str, tuple[int, RemoteActor]] = OrderedDict()   # iri -> (kept at, row)
        self._iri_of_key: dict[str, str] = {}

    def _keep(self, row: RemoteActor) -> RemoteActor:
        self._memory[row.iri] = (self._now(), row)
        self._memory.move_to_end(row.iri)
        if row.key_id:
            self._iri_of_key[row.key_id] = row.iri
        while len(self._memory) > _MEMORY_ROWS:
            _, (_, old) = self._memory.popitem(last=False)
            if old.key_id and self._iri_of_key.get(old.key_id) == old.iri:
                del self._iri_of_key[old.key_id]
        return row

    def _recall(self, iri: str) -> RemoteActor | None:
        kept = self._memory.get(iri)
        if kept is None or kept[0] <= self._now() - MEMORY_MS:
            return None
        return kept[1]

    @property
    def _db(self) -> Any:
        return self.federation.site.node.db

    def _now(self) -> int:
        return self.federation.site.node.clock()

    async def _shared(self, key: tuple[str, str], make: Callable[[], Awaitable[T]]) -> T:
        """Callers asking for the same thing at once wait on one task."""
        task = self._inflight.get(key)
        if task is None:
            task = self._inflight[key] = asyncio.ensure_future(make())
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        result: T = await asyncio.shield(task)
        return result

    # -- fetching ----------------------------------------------------------------------

    async def _fetch(self, iri: str) -> FetchedDocument:
        if await self.federation.suspended(iri):
            raise RemoteActorError(f"{iri[:200]}: its server is suspended here")
        client = self.federation.client
        try:
            return await client.fetch(iri, signer=await self.federation.instance_signer())
        except FetchError as error:
            raise _failed(f"cannot fetch {iri[:200]}", error) from error

    async def fetch_object(self, iri: str) -> ASObject:
        """The object at ``iri``, fetched signed and checked to be what its id says."""
        return (await self._fetch_checked(iri))[0]

    async def _fetch_checked(self, iri: str) -> tuple[ASObject, dict[str, Any]]:
        fetched = await self._fetch(iri)
        obj = self._parsed(fetched)
        if obj.id != iri.partition("#")[0] and obj.id != iri:
            if obj.id is None or not same_host(obj.id, fetched.url):
                raise RemoteActorError(f"{iri[:200]} answered a document whose id is {str(obj.id)[:200]}")
            fetched = await self._fetch(obj.id)   # Mastodon's rule: once more, at its own id
            obj = self._parsed(fetched)
        if obj.id is None or (obj.id != fetched.url and not same_host(obj.id, fetched.url)):
            raise RemoteActorError(f"{fetched.url[:200]} served a document of another host ({str(obj.id)[:200]})")
        return obj, fetched.document

    @staticmethod
    def _parsed(fetched: FetchedDocument) -> ASObject:
        try:
            return parse_object(fetched.document)
        except ActivityStreamsError as error:
            raise RemoteActorError(f"{fetched.url[:200]}: {error}") from error

    # -- actors ------------------------------------------------------------------------

    async def held(self, iri: str) -> RemoteActor | None:
        """The actor as last stored, however old, without fetching."""
        kept = self._recall(iri)
        if kept is not None:
            return kept
        # Many activities of one actor mapped at once (a batch of the inbox queue) all miss
        # memory together: one read serves them.
        return await self._shared(("held", iri), lambda: self._read_held(iri))

    async def _read_held(self, iri: str) -> RemoteActor | None:
        async with self._db.read() as conn:
            found: RemoteActor | None = await actor_store.actor_by_iri(conn, iri)
        return None if found is None else self._keep(found)

    async def actor(self, iri: str, *, refresh: bool = False) -> RemoteActor:
        """The actor at ``iri``: stored if fetched within a day (and not ``refresh``), else fetched."""
        if not refresh:
            stored = await self.held(iri)
            if stored is not None and stored.fetched_at > self._now() - CACHE_MS:
                return stored
        return await self._shared(("actor", iri), lambda: self._fetch_actor(iri))

    async def _fetch_actor(self, iri: str) -> RemoteActor:
        obj, document = await self._fetch_checked(iri)
        if obj.id != iri:
            raise RemoteActorError(f"{iri[:200]} is the actor {str(obj.id)[:200]}, not itself")
        return await self.remember(obj, document)

    async def remember(self, obj: ASObject, document: dict[str, Any]) -> RemoteActor:
        """Store an actor document that was fetched from its id (or verified so) and ingest
        its profile: the one way an actor row is written."""
        try:
            facts = actor_facts(obj)
        except ActivityStreamsError as error:
            raise RemoteActorError(f"{str(obj.id)[:200]}: {error}") from error
        held = await self.held(facts.iri)
        handle = held.handle if held is not None and held.handle and facts.username and \
            held.handle.split("@")[0] == facts.username else await self._agreed_handle(facts.iri, facts.username)
        values = {"host": facts.host, "kind": facts.kind, "inbox": facts.inbox, "shared_inbox": facts.shared_inbox,
                  "followers": facts.followers, "key_id": facts.key_id, "public_key_pem": facts.public_key_pem,
                  "handle": handle, "moved_to": facts.moved_to,
                  "document": orjson.dumps(document),
                  "fetched_at": self._now()}
        async with self._db.write() as conn:
            stored: RemoteActor = await actor_store.save_actor(conn, facts.iri, values)
        self._keep(stored)
        await self._ingest_profile(obj, facts.iri)
        return stored

    async def _ingest_profile(self, obj: ASObject, iri: str) -> None:
        content = profile_content(obj)
        entry, data = make_foreign(content, author=iri, origin=profile_origin(iri, content), via="fetch",
                                   ts=self._now())
        offers = [ForeignOffer(entry.raw, data)]
        want_images(self.federation, offers, await self.federation.site.node.ingest.foreign(offers), origin=iri)

    async def forget(self, iri: str) -> None:
        """Drop the stored document of a deleted actor (its entries are the inbox's to remove)."""
        async with self._db.write() as conn:
            await actor_store.forget_actor(conn, iri)
        self._memory.pop(iri, None)

    # -- keys --------------------------------------------------------------------------

    async def key_for(self, key_id: str, *, refresh: bool = False) -> tuple[str, str]:
        """(actor IRI, public key PEM) of the key ``key_id``; see the module docstring."""
        if not refresh:
            row = self._recall(self._iri_of_key.get(key_id, ""))
            if row is None or row.key_id != key_id:
                async with self._db.read() as conn:
                    row = await actor_store.actor_by_key_id(conn, key_id)
                if row is not None:
                    self._keep(row)
            if row is not None and row.public_key_pem:
                return row.iri, row.public_key_pem
        return await self._shared(("key", key_id), lambda: self._fetch_key(key_id))

    async def _fetch_key(self, key_id: str) -> tuple[str, str]:
        fetched = await self._fetch(key_id.partition("#")[0])
        raw = fetched.document
        if "inbox" in raw:    # the actor itself, its key inside (Mastodon's #main-key)
            actor_iri = str(raw.get("id"))
        elif isinstance(raw.get("owner"), str) and raw.get("id") == key_id:
            actor_iri = raw["owner"]   # a key document of its own (GoToSocial, Misskey's)
        else:
            raise RemoteActorError(f"{key_id[:200]} names neither an actor nor a key with an owner")
        if not same_host(actor_iri, key_id):
            raise RemoteActorError(f"the key {key_id[:200]} claims the actor {actor_iri[:200]} of another host")
        actor = await self.actor(actor_iri, refresh=True)
        if actor.key_id != key_id or not actor.public_key_pem:
            raise RemoteActorError(f"the actor {actor_iri[:200]} does not list the key {key_id[:200]}")
        return actor.iri, actor.public_key_pem

    # -- handles -----------------------------------------------------------------------

    def _webfinger_url(self, domain: str, resource: str) -> str:
        scheme = "http" if self.federation.settings.fetch.allow_http else "https"
        return f"{scheme}://{domain}/.well-known/webfinger?resource={quote(resource, safe=':@')}"

    async def _webfinger(self, user: str, domain: str) -> tuple[str, str | None]:
        """(subject, the actor IRI of its ``self`` link) for ``acct:user@domain``."""
        url = self._webfinger_url(domain, f"acct:{user}@{domain}")
        try:
            fetched = await self.federation.client.get(url, accept=_JRD_ACCEPT, accepts=_json_document,
                                                       max_bytes=_MAX_WEBFINGER_BYTES)
            document = orjson.loads(fetched.body)
        except (FetchError, orjson.JSONDecodeError) as error:
            raise _failed(f"WebFinger of {user}@{domain}", error) from error
        if not isinstance(document, dict) or not isinstance(document.get("subject"), str):
            raise RemoteActorError(f"WebFinger of {user}@{domain} answered no subject")
        links = document["links"] if isinstance(document.get("links"), list) else []
        href = next((link.get("href") for link in links if isinstance(link, dict) and link.get("rel") == "self"
                     and link.get("type") in _SELF_TYPES and isinstance(link.get("href"), str)), None)
        return document["subject"].removeprefix("acct:"), href

    async def _agreed_handle(self, iri: str, username: str | None) -> str | None:
        """``user@domain`` once WebFinger agrees both ways, else None (the actor is still
        usable by its IRI; only its handle is unproven)."""
        if not username:
            return None
        host = urlsplit(iri).netloc
        try:
            subject, href = await self._webfinger(username, host)
            if href != iri or "@" not in subject:
                return None
            user, _, domain = subject.rpartition("@")
            if domain.lower() != host.lower():   # a handle on another domain: it must say so too
                _, back = await self._webfinger(user, domain)
                if back != iri:
                    return None
            return subject
        except RemoteActorError:
            return None

    async def resolve_handle(self, handle: str) -> RemoteActor:
        """The actor of ``user@host`` (a leading ``@`` is allowed), by WebFinger both ways."""
        user, _, host = handle.strip().lstrip("@").rpartition("@")
        if not user or not host or "/" in host:
            raise RemoteActorError(f"{handle[:200]!r} is not a handle of the form user@host")
        async with self._db.read() as conn:
            row = await actor_store.actor_by_handle(conn, f"{user}@{host}")
        if row is not None and row.fetched_at > self._now() - CACHE_MS:
            return row
        _, href = await self._webfinger(user, host)
        if href is None:
            raise RemoteActorError(f"WebFinger of {user}@{host} names no ActivityPub actor")
        actor = await self.actor(href, refresh=True)
        if actor.handle is None or actor.handle.lower() != f"{user}@{host}".lower():
            raise RemoteActorError(f"{href[:200]} does not agree that it is {user}@{host} "
                                   f"(it says {actor.handle or 'nothing'})")
        return actor

