"""What the inbound mapping asks of this node: its own people and objects by URL, the entry
held for an IRI, and foreign offers made and ingested. One object per received activity
(:class:`Turn`), holding the actor it came from, why it is believed, and its budget of
fetches, so that one activity cannot make the node fetch a whole thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from weft.core.foreign import Via, make_foreign
from weft.core.ids import entry_id_text
from weft.federation.media import want_images
from weft.federation.urls import local_ref
from weft.ingest import Outcome
from weft.ingest_foreign import ForeignOffer
from weft.store import accounts as account_store
from weft.store import foreign as foreign_store
from weft.store.entries import entries_by_ids
from weft.store.queries import entry_detail

if TYPE_CHECKING:
    from weft.federation.remote_actors import RemoteActor
    from weft.federation.service import Federation

__all__ = ["MAX_ANCESTORS", "LocalPerson", "Turn"]

MAX_ANCESTORS: Final = 5   # parents fetched for one activity's thread


@dataclass(frozen=True)
class LocalPerson:
    """A hosted account an activity names (followed, mentioned, blocked)."""

    account: int
    identity: int
    did: str
    username: str


@dataclass
class Turn:
    """One received activity's handling: who sent it, how it is believed, what it may fetch."""

    federation: Federation
    actor: RemoteActor
    via: Via
    ancestors_left: int = MAX_ANCESTORS

    @property
    def base(self) -> str:
        return self.federation.base_url

    @property
    def now(self) -> int:
        return self.federation.site.node.clock()

    def as_author(self, actor: RemoteActor, via: Via) -> Turn:
        """The same turn (and budget) for content by another author: an ancestor fetched."""
        turn = Turn(self.federation, actor, via, self.ancestors_left)
        return turn

    async def person(self, iri: str | None) -> LocalPerson | None:
        """The active hosted account whose actor (or profile page) ``iri`` is, else None."""
        ref = local_ref(self.base, iri) if iri else None
        if ref is None or ref.kind not in ("actor", "profile") or not ref.username:
            return None
        async with self.federation.site.node.db.read() as conn:
            row = await account_store.account_by(conn, username=ref.username)
        if row is None or row.state != "active":
            return None
        return LocalPerson(row.id, row.identity, row.did, row.username)

    async def person_by_did(self, did: str) -> LocalPerson | None:
        async with self.federation.site.node.db.read() as conn:
            row = await account_store.account_by(conn, did=did)
        return None if row is None or row.state != "active" else LocalPerson(row.id, row.identity, row.did,
                                                                            row.username)

    async def entry_of(self, iri: str | None) -> bytes | None:
        """The id of the entry held for ``iri``: ours (``/objects/<id>``) or a foreign origin."""
        if not iri:
            return None
        ref = local_ref(self.base, iri)
        async with self.federation.site.node.db.read() as conn:
            if ref is not None:
                if ref.entry_id is None:
                    return None
                held = await entries_by_ids(conn, [ref.entry_id])
                return ref.entry_id if ref.entry_id in held else None
            found = await foreign_store.entries_of_origins(conn, [iri])
        return found[iri][1] if iri in found else None

    async def content_of(self, entry_id: bytes) -> tuple[str | None, dict[str, Any] | None]:
        """(author, content) of a held entry; content None when deleted."""
        async with self.federation.site.node.db.read() as conn:
            detail = await entry_detail(conn, entry_id, now_ms=self.now)
        author = detail["header"].get("author")
        return (author if isinstance(author, str) else None), detail["content"]

    def offer(self, content: dict[str, Any], origin: str, ts: int | None = None) -> ForeignOffer:
        entry, data = make_foreign(content, author=self.actor.iri, origin=origin, via=self.via,
                                   ts=min(ts if ts is not None else self.now, self.now))
        return ForeignOffer(entry.raw, data)

    async def ingest(self, offers: list[ForeignOffer]) -> list[Outcome]:
        outcomes = await self.federation.site.node.ingest.foreign(offers)
        want_images(self.federation, offers, outcomes, origin=self.actor.host)   # fetched for the media cache
        return outcomes


def text_id(entry_id: bytes) -> str:
    return entry_id_text(entry_id)
