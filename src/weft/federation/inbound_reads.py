"""The inbound mapping's reads, grouped: activities mapped at the same moment ask their
questions of the database in one read transaction.

    answers = await federation.inbound.reads.ask(Questions(origins={note_iri}, followed={actor}))

A busy shared inbox maps several deliveries at once, and each asks the same few small
questions: is an entry held for this object, who is this person of ours, does anyone here
follow the sender. A read transaction costs several times the queries in it (on SQLite a
connection, BEGIN and ROLLBACK, each a trip to the driver's thread; bench/bench_inbox.py),
and eight deliveries each holding a reader at once outgrew the reader pool, whose extra
connections are opened and closed for every use. So the first question is read at once,
and those asked while a read runs wait for it to end and then go together in the next,
as ingest groups its writes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from weft.store import accounts as account_store
from weft.store import foreign as foreign_store
from weft.store import remote_actors as actor_store
from weft.store.entries import entries_by_ids

if TYPE_CHECKING:
    from weft.store.accounts import AccountRow
    from weft.store.database import Database

__all__ = ["Answers", "InboundReads", "Questions"]


@dataclass
class Questions:
    """What one activity's mapping wants to know."""

    origins: set[str] = field(default_factory=set)       # foreign origins: the entry held for each
    entry_ids: set[bytes] = field(default_factory=set)   # entries of ours: which are held
    usernames: set[str] = field(default_factory=set)     # hosted accounts, by username
    followed: set[int] = field(default_factory=set)      # actors' identities: which ones our people follow

    def merge(self, other: Questions) -> None:
        self.origins |= other.origins
        self.entry_ids |= other.entry_ids
        self.usernames |= other.usernames
        self.followed |= other.followed


@dataclass(frozen=True)
class Answers:
    """What a group's read found; each asker picks its own questions' answers out of it."""

    origins: dict[str, bytes]                     # origin -> entry id, for the origins held
    entry_ids: frozenset[bytes]                   # the entries of ours held
    accounts: dict[str, AccountRow | None]        # username (as asked) -> its account, if any
    followed: frozenset[int]                      # the actors followed by someone here


class InboundReads:
    """Groups the reads of concurrently mapped activities (``federation.inbound.reads``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[Questions, asyncio.Future[Answers]]] = []
        self._reading: asyncio.Task[None] | None = None

    async def ask(self, questions: Questions) -> Answers:
        """The answers to ``questions`` (and to those asked with them)."""
        answer: asyncio.Future[Answers] = asyncio.get_running_loop().create_future()
        self._waiting.append((questions, answer))
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_waiting(), name="weft-inbound-reads")
        return await answer

    async def _read_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            merged = Questions()
            for questions, _ in group:
                merged.merge(questions)
            try:
                answers = await self._read(merged)
            except Exception as error:  # noqa: BLE001 - every asker of the group hears of it; the next group is read
                for _, answer in group:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            except BaseException:        # cancelled (the node closing): nobody may wait for ever
                for _, answer in group + self._waiting:
                    answer.cancel()
                self._waiting = []
                raise
            for _, answer in group:
                if not answer.done():          # an asker may have been cancelled meanwhile
                    answer.set_result(answers)

    async def _read(self, questions: Questions) -> Answers:
        async with self.db.read() as conn:
            origins = await foreign_store.entries_of_origins(conn, questions.origins) if questions.origins else {}
            held = await entries_by_ids(conn, questions.entry_ids) if questions.entry_ids else {}
            accounts = {name: await account_store.account_by(conn, username=name) for name in questions.usernames}
            followed = await actor_store.followed_by_locals(conn, questions.followed)
        return Answers({origin: entry_id for origin, (_, entry_id) in origins.items()}, frozenset(held), accounts,
                       frozenset(followed))
