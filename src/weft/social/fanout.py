"""Who of the live listeners is told what, for one batch of news (``weft.store.live``).

The statements do not grow with the number of listeners: one ``seen_by`` per timeline
that someone listens to (for all its viewers at once; one more when posts were
deleted), one for the posts of new notifications, one for new boosts (which reach home
timelines alone, wrapped around their posts, as Mastodon's ``user`` stream sends them),
one hydration of the statuses, and one read of the viewers' likes, boosts and bookmarks
of them.

A boost is not sent to a listener that was sent its post, or another boost of it, by the
same stream of late (as a page leaves it out where its post is). Its undoing is sent to
those it was sent to, and so is the delete of the post for each boost of it they were sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from weft.social.model import Notification, Status
from weft.social.reading import People, Reader
from weft.social.streams import Event, Stream
from weft.store import boosts, statuses
from weft.store.live import News
from weft.store.schema import NOTIFICATION_KINDS
from weft.store.statuses import TimelineKind

if TYPE_CHECKING:
    from weft.social.events import Subscription

__all__ = ["fan_out"]

Timeline = tuple[TimelineKind, str | None]
HOME: tuple[Timeline, ...] = (("home", None),)
Seen = dict[Timeline, set[tuple[int, int]]]     # timeline -> (viewer, post row) pairs


async def fan_out(conn: AsyncConnection, reader: Reader, news: News, listeners: Sequence[Subscription], *,
                  now_ms: int) -> list[tuple[Subscription, Event]]:
    """The events of ``news`` for each of ``listeners``, in the order they happened."""
    if not listeners:
        return []
    viewers_of: dict[Timeline, set[int]] = defaultdict(set)
    for listener in listeners:
        for stream in listener.streams:
            for timeline in stream.timelines:
                viewers_of[timeline].add(listener.viewer.identity)
    shown_rows = [*news.posts, *(row for row, _ in news.edited)]
    gone_rows = [row for row, _, _ in news.deleted]
    seen: Seen = {}
    seen_gone: Seen = {}
    for (kind, tag), viewers in viewers_of.items():
        seen[(kind, tag)] = await statuses.seen_by(conn, shown_rows, viewers, now_ms=now_ms, kind=kind, tag=tag)
        if gone_rows:   # as the posts stood before their delete: who had them
            seen_gone[(kind, tag)] = await statuses.seen_by(conn, gone_rows, viewers, now_ms=now_ms, kind=kind,
                                                            tag=tag, alive=False)
    told = {listener.viewer.identity for listener in listeners if any(s.notifications for s in listener.streams)}
    notices = [notice for notice in news.notices if notice.identity in told]
    notice_seen = await statuses.seen_by(conn, {n.post for n in notices if n.post is not None},
                                         {n.identity for n in notices}, now_ms=now_ms)

    boosted = await boosts.boosts_seen_by(conn, news.boosts, viewers_of.get(("home", None), set()), now_ms=now_ms)

    rows = {row for pairs in seen.values() for _, row in pairs} | {row for _, row in notice_seen}
    viewers = {viewer for pairs in seen.values() for viewer, _ in pairs} | {viewer for viewer, _ in notice_seen}
    folks = People(conn, now_ms)
    base = {status.row.row: status for status in await reader.hydrate(conn, None, sorted(rows), folks=folks)}
    wrapped = await reader.items(conn, None, [item for item, _ in boosted.values()], folks=folks) if boosted else []
    boost_rows = {statuses.status_id(item.boost[3], row): row for row, (item, _) in boosted.items() if item.boost}
    base |= {boost_rows[status.id]: status for status in wrapped if status.id in boost_rows}
    marks = await statuses.viewers_marks(conn, viewers | {who for _, them in boosted.values() for who in them},
                                         rows | {item.post for item, _ in boosted.values()})
    batch = _Batch(news, seen, seen_gone, {row: who for row, (_, who) in boosted.items()}, base, marks)
    for notice in notices:
        status = batch.status_for(notice.identity, notice.post) if notice.post is not None else None
        if notice.post is not None and (status is None or (notice.identity, notice.post) not in notice_seen):
            continue   # about a post its reader may no longer see: left out, as the API does
        batch.notifications.append((notice.identity, Notification(
            notice.id, NOTIFICATION_KINDS[notice.kind], notice.ts, await folks.get(notice.actor), status)))
    return [(listener, event) for listener in listeners for event in batch.events_for(listener)]


@dataclass
class _Batch:
    """One batch of news, with what the store said of it, to tell each listener its part."""

    news: News
    seen: Seen
    seen_gone: Seen
    boosted: dict[int, set[int]]                    # boost row -> viewers with it at home
    base: dict[int, Status]                         # post or boost row -> as anyone sees it; marks are per viewer
    marks: dict[int, dict[str, set[int]]]
    notifications: list[tuple[int, Notification]] = field(default_factory=list)   # (recipient, notification)
    _as_seen: dict[tuple[int, int], Status] = field(default_factory=dict)

    def status_for(self, viewer: int, row: int) -> Status | None:
        if row not in self.base:
            return None
        if (viewer, row) not in self._as_seen:
            mine, status = self.marks.get(viewer, {}), self.base[row]
            post = status.row.row
            self._as_seen[(viewer, row)] = replace(
                status, favourited=post in mine.get("favourited", ()),
                reblogged=post in mine.get("reblogged", ()), bookmarked=post in mine.get("bookmarked", ()))
        return self._as_seen[(viewer, row)]

    def events_for(self, listener: Subscription) -> list[Event]:
        me, start = listener.viewer.identity, listener.start
        streams = sorted(listener.streams, key=lambda s: s.labels)
        events: list[Event] = []
        for row in self.news.posts:
            status = self.status_for(me, row)
            if row > start.entry and status is not None:
                events += [Event("update", stream, status=status) for stream in streams
                           if self._holds(self.seen, stream, me, row) and _fits(stream, status)]
        for row in self.news.boosts:
            status = self.status_for(me, row)
            if row > start.entry and status is not None and me in self.boosted.get(row, ()):
                events += [Event("update", stream, status=status) for stream in streams
                           if stream.timelines == HOME and not stream.media_only
                           and not listener.has_post(stream, status.row.row)]
        for row, edit in self.news.edited:
            status = self.status_for(me, row)
            if edit > start.entry and status is not None:
                events += [Event("status.update", stream, status=status) for stream in streams
                           if self._holds(self.seen, stream, me, row) and _fits(stream, status)]
        for row, sid, delete in self.news.deleted:
            if delete > start.entry:
                events += [Event("delete", stream, status_id=sid) for stream in streams
                           if self._holds(self.seen_gone, stream, me, row) or listener.was_sent(stream, sid)]
                events += [Event("delete", stream, status_id=boost) for stream in streams
                           for boost in listener.boosts_sent(stream, row)]
        for _, sid, delete in self.news.withdrawn:
            if delete > start.entry:
                events += [Event("delete", stream, status_id=sid) for stream in streams
                           if listener.was_sent(stream, sid)]
        for recipient, notification in self.notifications:
            if recipient == me and notification.id > start.notice:
                events += [Event("notification", stream, notification=notification) for stream in streams
                           if stream.notifications]
        return events

    @staticmethod
    def _holds(table: Seen, stream: Stream, viewer: int, row: int) -> bool:
        """Whether ``row`` is in every timeline of ``stream`` as ``viewer`` sees them."""
        return bool(stream.timelines) and all((viewer, row) in table.get(t, ()) for t in stream.timelines)


def _fits(stream: Stream, status: Status) -> bool:
    return not stream.media_only or bool(status.attachments)
