"""Live events of a site: posts, boosts, edits, deletes and notifications as they are committed.

One hub per process (``site.social.events``). While anyone listens it waits on the
ingest path's change feed and, after each wake, reads what came since its position
(``weft.store.live``) in a few statements however many listen, then asks the store which
listener may see what (``weft.store.statuses.seen_by``: the timelines' own rule, with
mutes and blocks) and hands each listener its events. Nothing is sent that its viewer
could not read over the API at that moment.

Streams and events are described in ``weft.social.streams``.

A listener is a :class:`Subscription` with a bounded queue: one that falls too far
behind is dropped, never buffered without limit. It starts at what is newest when it
subscribes (no backlog), and the hub's waiter stops when the last listener leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from weft.social.fanout import fan_out
from weft.social.streams import Event, Stream
from weft.store import live

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.ingest import Changes
    from weft.node import Node
    from weft.social.reading import Reader

__all__ = ["CAPACITY", "Events", "Subscription"]

log = logging.getLogger("weft.social.events")

CAPACITY: Final = 256            # events a listener may have waiting before it is dropped
_REMEMBERED: Final = 2048        # statuses a listener was sent, so that their deletes reach it


@dataclass(eq=False)
class Subscription:
    """One listener: a viewer, its streams, and the events waiting for it.

    ``await next(timeout)`` gives the next event, or None when ``timeout`` seconds pass
    without one or the subscription has ended (``ended`` then says why). Use it as an
    async context manager, or call ``close``, to stop listening."""

    hub: Events
    viewer: Account
    start: live.Position
    streams: set[Stream] = field(default_factory=set)
    capacity: int = CAPACITY
    ended: str | None = None
    _waiting: deque[Event] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    # (stream, status id) -> (its post row, whether it is a boost), of what was sent of late
    _sent: OrderedDict[tuple[Stream, int], tuple[int, bool]] = field(default_factory=OrderedDict)
    _posts_sent: Counter[tuple[Stream, int]] = field(default_factory=Counter)   # (stream, post row): how often

    async def next(self, timeout: float | None = None) -> Event | None:
        if not self._waiting and self.ended is None:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
        return self._waiting.popleft() if self._waiting else None

    def close(self) -> None:
        self._end("closed")

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _push(self, event: Event) -> None:
        if self.ended is not None:
            return
        if len(self._waiting) >= self.capacity:
            self._waiting.clear()
            self._end("too slow: events came faster than they were read")
            return
        self._waiting.append(event)
        if event.kind in ("update", "status.update") and event.status is not None:
            self._remember(event.stream, event.status.id, event.status.row.row, event.status.boost is not None)
        self._ready.set()

    def _remember(self, stream: Stream, status_id: int, post: int, boost: bool) -> None:
        if (stream, status_id) not in self._sent:
            self._posts_sent[(stream, post)] += 1
        self._sent[(stream, status_id)] = (post, boost)
        while len(self._sent) > _REMEMBERED:
            (old_stream, _), (old_post, _) = self._sent.popitem(last=False)
            self._posts_sent[(old_stream, old_post)] -= 1
            if self._posts_sent[(old_stream, old_post)] <= 0:
                del self._posts_sent[(old_stream, old_post)]

    def was_sent(self, stream: Stream, status_id: int) -> bool:
        """Whether this listener was sent the status ``status_id`` (a post or a boost) by
        ``stream`` (of late)."""
        return (stream, status_id) in self._sent

    def has_post(self, stream: Stream, post: int) -> bool:
        """Whether this listener was sent the post row ``post``, or a boost of it, by ``stream`` (of late)."""
        return (stream, post) in self._posts_sent

    def boosts_sent(self, stream: Stream, post: int) -> list[int]:
        """The status ids of the boosts of the post row ``post`` sent by ``stream`` (of late)."""
        if not self.has_post(stream, post):
            return []
        return [status_id for (by, status_id), (row, boost) in self._sent.items()
                if boost and row == post and by == stream]

    def _end(self, reason: str) -> None:
        if self.ended is None:
            self.ended = reason
            self._ready.set()
            self.hub._leave(self)


class Events:
    """The live-event hub of one site (see the module docstring)."""

    def __init__(self, node: Node, reader: Reader, *, capacity: int = CAPACITY) -> None:
        self.node = node
        self.reader = reader
        self.capacity = capacity
        self._listeners: set[Subscription] = set()
        self._position = live.Position()
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()   # cancelled, not yet ended
        self._closed = False

    @property
    def listening(self) -> int:
        """How many listen now."""
        return len(self._listeners)

    @property
    def running(self) -> bool:
        """Whether the waiter is running (it does while anyone listens)."""
        return self._task is not None and not self._task.done()

    async def subscribe(self, viewer: Account, streams: Iterable[Stream] = ()) -> Subscription:
        """Listen as ``viewer`` to ``streams`` (more can be added to ``subscription.streams``)
        from what is newest now on."""
        async with self.node.db.read() as conn:
            start = await live.newest(conn)
        subscription = Subscription(self, viewer, start, set(streams), self.capacity)
        if self._closed:
            subscription._end("the server is stopping")
            return subscription
        self._listeners.add(subscription)
        if self._task is None:
            changes = self.node.ingest.changes()   # first, so that no commit after the position is missed
            try:
                async with self.node.db.read() as conn:
                    position = await live.newest(conn)
            except BaseException:
                changes.close()
                subscription._end("the database could not be read")
                raise
            if self._task is None and self._listeners:   # no one started it meanwhile, and someone listens
                self._position = position
                self._task = asyncio.create_task(self._watch(changes), name="weft-live-events")
            else:
                changes.close()
        return subscription

    async def close(self) -> None:
        """End every subscription (their listeners see ``ended``) and refuse new ones: the
        server is stopping, and open streams must not keep it waiting."""
        self._closed = True
        for subscription in list(self._listeners):
            subscription._end("the server is stopping")
        self._stop()
        await asyncio.gather(*self._stopping, return_exceptions=True)

    def _leave(self, subscription: Subscription) -> None:
        self._listeners.discard(subscription)
        if not self._listeners:
            self._stop()

    def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()   # it closes its change feed as it ends
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def _watch(self, changes: Changes) -> None:
        with changes:
            while self._listeners:
                await changes.next()
                try:
                    await self._advance()
                except Exception:  # one bad batch must not end every stream
                    log.exception("live events: reading what changed failed; skipping ahead")
                    try:
                        async with self.node.db.read() as conn:
                            self._position = await live.newest(conn)
                    except Exception:  # the next wake tries again
                        log.exception("live events: cannot read the newest position")

    async def _advance(self) -> None:
        while self._listeners:
            listeners = [s for s in self._listeners if s.ended is None]
            async with self.node.db.read() as conn:
                news = await live.news_since(conn, self._position)
                deliveries = await fan_out(conn, self.reader, news, listeners, now_ms=self.node.clock())
            self._position = news.upto
            for subscription, event in deliveries:
                subscription._push(event)
            if not news.more:
                return
