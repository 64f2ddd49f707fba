"""Answers kept while nothing they show can have changed: the timelines' page cache.

A page of a timeline is a few milliseconds of queries and entity building; a person's
app asks for the same page again and again (on every refresh, from every device). The
cache keeps the answer until the *generation* moves: any commit through the ingest path
(of this process, or of another process writing to the same database, which the ingest
notices by polling), or a private write that changes what is shown (a bookmark, an
account's settings), bumps it. An answer also ends when the first of its posts expires.

The generation is read without waiting: the ingest's change feed is drained on each
lookup, so a post published by this process is never followed by a stale page.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from weft.ingest import Changes
    from weft.node import Node

__all__ = ["Cached", "PageCache"]

CAPACITY: Final = 4096
# A bound in bytes as well as in pages: the key holds the request's URL, so a client that
# varies its query string makes a new page each time; what it can make us keep is bounded.
BUDGET_BYTES: Final = 32 * 1024 * 1024
MAX_AGE_MS: Final = 300_000   # a bound for anything that changes without a commit


@dataclass(frozen=True)
class Cached:
    generation: int
    valid_until: int
    body: bytes
    headers: dict[str, str]


class PageCache:
    def __init__(self, node: Node, capacity: int = CAPACITY, budget_bytes: int = BUDGET_BYTES) -> None:
        self.node = node
        self.capacity = capacity
        self.budget_bytes = budget_bytes
        self._bytes = 0
        self._generation = 0
        self._changes: Changes | None = None
        self._pages: OrderedDict[Hashable, Cached] = OrderedDict()

    def generation(self) -> int:
        """The current generation (call before computing an answer to be kept)."""
        if self._changes is None:
            self._changes = self.node.ingest.changes()
            self.bump()   # commits before the feed started are not known to be seen
        elif self._changes.take() is not None:
            self.bump()
        return self._generation

    def bump(self) -> None:
        """Something shown may have changed: forget every kept answer."""
        self._generation += 1
        self._pages.clear()
        self._bytes = 0

    def get(self, key: Hashable) -> Cached | None:
        generation = self.generation()
        found = self._pages.get(key)
        if found is None:
            return None
        if found.generation != generation or self.node.clock() >= found.valid_until:
            self._forget(key)
            return None
        self._pages.move_to_end(key)
        return found

    def put(self, key: Hashable, generation: int, body: bytes, headers: dict[str, str], *,
            expires: int | None = None) -> None:
        """Keep an answer computed at ``generation`` (dropped if it moved meanwhile)."""
        if generation != self.generation():
            return
        if len(body) > self.budget_bytes // 16:
            return   # one page must not push out a sixteenth of the rest
        now = self.node.clock()
        valid_until = now + MAX_AGE_MS if expires is None else min(expires, now + MAX_AGE_MS)
        self._forget(key)
        self._pages[key] = Cached(generation, valid_until, body, headers)
        self._bytes += len(body)
        while len(self._pages) > self.capacity or self._bytes > self.budget_bytes:
            self._forget(next(iter(self._pages)))

    def _forget(self, key: Hashable) -> None:
        found = self._pages.pop(key, None)
        if found is not None:
            self._bytes -= len(found.body)

    def close(self) -> None:
        if self._changes is not None:
            self._changes.close()
            self._changes = None
