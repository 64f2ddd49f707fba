"""What the inbound mapping asks of this node: its own people and objects by URL, the entry
held for an IRI, and foreign offers made and ingested. One object per received activity
(:class:`Turn`), holding the actor it came from, why it is believed, and its budget of
fetches, so that one activity cannot make the node fetch a whole thread.

A turn remembers what it read, and :meth:`Turn.prefetch` reads at once what a mapping is
about to ask one question at a time, in a read grouped with those of the other activities
being mapped (weft.federation.inbound_reads): on a busy inbox a read transaction costs more
than the rest of an activity's mapping (bench/bench_inbox.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from weft.core.foreign import Via, make_foreign
from weft.core.ids import entry_id_text
from weft.federation.inbound_reads import Questions
from weft.federation.media import want_images
from weft.federation.urls import local_ref
from weft.ingest import Outcome
from weft.ingest_foreign import ForeignOffer
from weft.store import accounts as account_store
from weft.store.queries import entry_detail

if TYPE_CHECKING:
    from weft.federation.remote_actors import RemoteActor
    from weft.federation.service import Federation

__all__ = ["MAX_ANCESTORS", "LocalPerson", "Turn"]

MAX_ANCESTORS: Final = 5   # parents fetched for one activity's thread

# What a URL names here, remembered: one activity's mapping asks it of the same few IRIs
# (its object, its actor, whom it addresses) several times, and a urlsplit costs more than
# the rest of the question. LocalRef is frozen, so a remembered answer cannot be changed.
_local_ref = lru_cache(maxsize=4096)(local_ref)


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
    # What this activity's handling read already (one activity asks for the same post and
    # the same people several times); shared with the turns of the authors it fetches, and
    # the entries forgotten whenever one of them ingests.
    _entries: dict[str, bytes | None] = field(default_factory=dict, repr=False)
    _people: dict[str, LocalPerson | None] = field(default_factory=dict, repr=False)
    _followed: bool | None = field(default=None, repr=False)   # the actor's, so never shared

    @property
    def base(self) -> str:
        return self.federation.base_url

    @property
    def now(self) -> int:
        return self.federation.site.node.clock()

    def as_author(self, actor: RemoteActor, via: Via) -> Turn:
        """The same turn (and budget) for content by another author: an ancestor fetched."""
        return Turn(self.federation, actor, via, self.ancestors_left, self._entries, self._people)

    async def prefetch(self, *, entries: Iterable[str | None] = (), people: Iterable[str | None] = (),
                       followed: bool = False) -> None:
        """Read at once what :meth:`entry_of` (``entries``), :meth:`person` (``people``: IRIs,
        of which only our own are looked up) and :meth:`followed_here` will be asked, so
        that asking them reads nothing more. Reads go through ``federation.inbound.reads``,
        which groups them with those of the activities mapped at the same time."""
        questions = Questions()
        for iri in entries:
            if iri and iri not in self._entries:
                ref = _local_ref(self.base, iri)
                if ref is None:
                    questions.origins.add(iri)
                elif ref.entry_id is None:
                    self._entries[iri] = None
                else:
                    questions.entry_ids.add(ref.entry_id)
        questions.usernames = {name for name in map(self._username, people) if name and name not in self._people}
        if followed and self._followed is None:
            questions.followed.add(self.actor.identity)
        if not (questions.origins or questions.entry_ids or questions.usernames or questions.followed):
            return
        answers = await self.federation.inbound.reads.ask(questions)
        for iri in entries:
            if iri and iri not in self._entries:
                ref = _local_ref(self.base, iri)
                if ref is None:
                    self._entries[iri] = answers.origins.get(iri)
                elif ref.entry_id is not None:
                    self._entries[iri] = ref.entry_id if ref.entry_id in answers.entry_ids else None
        for name in questions.usernames:
            row = answers.accounts.get(name)
            self._people[name] = LocalPerson(row.id, row.identity, row.did, row.username) \
                if row is not None and row.state == "active" else None
        if questions.followed:
            self._followed = self.actor.identity in answers.followed

    def _username(self, iri: str | None) -> str | None:
        ref = _local_ref(self.base, iri) if iri else None
        return ref.username if ref is not None and ref.kind in ("actor", "profile") and ref.username else None

    async def person(self, iri: str | None) -> LocalPerson | None:
        """The active hosted account whose actor (or profile page) ``iri`` is, else None."""
        name = self._username(iri)
        if name is None:
            return None
        if name not in self._people:   # asked already, mostly: then there is nothing to prefetch
            await self.prefetch(people=[iri])
        return self._people[name]

    async def followed_here(self) -> bool:
        """Whether any of this node's own people follows the turn's actor (asked or let in)."""
        if self._followed is None:
            await self.prefetch(followed=True)
        return bool(self._followed)

    async def person_by_did(self, did: str) -> LocalPerson | None:
        async with self.federation.site.node.db.read() as conn:
            row = await account_store.account_by(conn, did=did)
        return None if row is None or row.state != "active" else LocalPerson(row.id, row.identity, row.did,
                                                                            row.username)

    async def entry_of(self, iri: str | None) -> bytes | None:
        """The id of the entry held for ``iri``: ours (``/objects/<id>``) or a foreign origin."""
        if not iri:
            return None
        if iri not in self._entries:
            await self.prefetch(entries=[iri])
        return self._entries[iri]

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
        self._entries.clear()
        outcomes = await self.federation.site.node.ingest.foreign(offers)
        want_images(self.federation, offers, outcomes, origin=self.actor.host)   # fetched for the media cache
        return outcomes


def text_id(entry_id: bytes) -> str:
    return entry_id_text(entry_id)
