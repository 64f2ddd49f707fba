"""What was written after a position: the reads behind live streams. SQL only.

A position is a pair of row ids, the last ``entries`` row and the last ``notifications``
row looked at. Posts, boosts, edits and deletes are entries, so one entry position finds
them all; notifications are rows of their own. Ids grow in commit order within one process
(ingest has one writer). Between processes on PostgreSQL, a transaction that took its ids
before another's but committed after it can be passed over: several workers would want a
fan-out of their own (architecture §7: LISTEN/NOTIFY), which this is not.
Who may see what is decided elsewhere (``weft.store.statuses.seen_by``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.ids import parse_entry_id
from weft.errors import WeftError
from weft.store.schema import BOOST, edits, entries, notifications, posts, reactions
from weft.store.statuses import status_id

__all__ = ["News", "NoticeRecord", "Position", "newest", "news_since"]


@dataclass(frozen=True)
class Position:
    entry: int = 0
    notice: int = 0


@dataclass(frozen=True)
class NoticeRecord:
    id: int
    identity: int          # who is notified
    kind: int
    actor: int
    post: int | None
    ts: int


@dataclass(frozen=True)
class News:
    """What came after a position, oldest first, and the position after it."""

    upto: Position
    posts: list[int] = field(default_factory=list)                        # new posts
    edited: list[tuple[int, int]] = field(default_factory=list)           # (post row, the edit's entry row)
    deleted: list[tuple[int, int, int]] = field(default_factory=list)     # (post row, status id, the delete's row)
    notices: list[NoticeRecord] = field(default_factory=list)
    boosts: list[int] = field(default_factory=list)                       # new boosts (reaction rows)
    # Entries not posts that their authors deleted (boosts undone among them): (row, status id, the delete's row)
    withdrawn: list[tuple[int, int, int]] = field(default_factory=list)
    more: bool = False                                               # read again: the limit was hit


async def newest(conn: AsyncConnection) -> Position:
    """The position of what is already written (a live stream starts after it)."""
    entry = (await conn.execute(select(func.max(entries.c.id)))).scalar()
    notice = (await conn.execute(select(func.max(notifications.c.id)))).scalar()
    return Position(entry or 0, notice or 0)


async def news_since(conn: AsyncConnection, after: Position, *, limit: int = 1000) -> News:
    """Posts, boosts, edits, deletes and notifications after ``after``, at most ``limit``
    entries and ``limit`` notifications at a time (``more`` says there is more). Posts,
    boosts and edits come whether or not they are still alive: ``seen_by`` tells."""
    written = (await conn.execute(select(entries.c.id, entries.c.content, entries.c.author)
                                  .where(entries.c.id > after.entry).order_by(entries.c.id).limit(limit))).all()
    upto_entry = written[-1][0] if written else after.entry
    span = and_(posts.c.entry > after.entry, posts.c.entry <= upto_entry)
    new_posts = [row for (row,) in (await conn.execute(
        select(posts.c.entry).where(span).order_by(posts.c.entry))).all()] if written else []
    edited: list[tuple[int, int]] = []
    deleted: list[tuple[int, int, int]] = []
    withdrawn: list[tuple[int, int, int]] = []
    boosts: list[int] = []
    if any(content is not None and b'"boost"' in content for _, content, _ in written):
        boosts = [row for (row,) in (await conn.execute(
            select(reactions.c.entry).where(reactions.c.entry > after.entry, reactions.c.entry <= upto_entry,
                                            reactions.c.kind == BOOST).order_by(reactions.c.entry))).all()]
    if written:
        # From the edits to their posts by indexed columns; the post must show that very edit.
        edited = [(row, edit) for row, edit in (await conn.execute(
            select(posts.c.entry, edits.c.entry).select_from(edits)
            .join(entries, entries.c.entry_id == edits.c.target)
            .join(posts, posts.c.entry == entries.c.id)
            .where(edits.c.entry > after.entry, edits.c.entry <= upto_entry, posts.c.text_entry == edits.c.entry,
                   posts.c.entry <= after.entry, posts.c.deleted.is_(False)).order_by(edits.c.entry))).all()]
        targets = _delete_targets((row, content, author) for row, content, author in written)
        if targets:
            gone = await conn.execute(
                select(posts.c.entry, posts.c.ts, entries.c.entry_id).join(entries, entries.c.id == posts.c.entry)
                .where(entries.c.entry_id.in_(list(targets)), posts.c.deleted.is_(True)))
            deleted = sorted(((row, status_id(ts, row), targets[bytes(target)][0]) for row, ts, target in gone.all()),
                             key=lambda item: item[2])
            withdrawn = await _withdrawn(conn, targets)
    noted = (await conn.execute(
        select(notifications.c.id, notifications.c.identity, notifications.c.kind, notifications.c.actor,
               notifications.c.post, notifications.c.ts)
        .where(notifications.c.id > after.notice).order_by(notifications.c.id).limit(limit))).all()
    notices = [NoticeRecord(*row) for row in noted]
    upto = Position(upto_entry, notices[-1].id if notices else after.notice)
    return News(upto, new_posts, edited, deleted, notices, boosts=boosts, withdrawn=withdrawn,
                more=len(written) == limit or len(noted) == limit)


async def _withdrawn(conn: AsyncConnection, targets: dict[bytes, tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The targets that were entries but not posts, deleted by their own authors (their
    reactions are gone): (row, status id, the delete's row)."""
    found = await conn.execute(
        select(entries.c.id, entries.c.ts, entries.c.entry_id, entries.c.author)
        .where(entries.c.entry_id.in_(list(targets)), ~exists().where(posts.c.entry == entries.c.id),
               ~exists().where(reactions.c.entry == entries.c.id)))
    return sorted(((row, status_id(ts, row), targets[bytes(target)][0])
                   for row, ts, target, author in found.all() if targets[bytes(target)][1] == author),
                  key=lambda item: item[2])


def _delete_targets(written: Iterable[tuple[int, bytes | None, int]]) -> dict[bytes, tuple[int, int]]:
    """Target -> (the delete entry's row, its author), of the delete entries among ``written``
    (row, content, author)."""
    targets: dict[bytes, tuple[int, int]] = {}
    for row, content, author in written:
        if not content or b'"delete"' not in content:
            continue
        try:
            parsed = orjson.loads(content)
            if isinstance(parsed, dict) and parsed.get("type") == "delete" and isinstance(parsed.get("target"), str):
                targets.setdefault(parse_entry_id(parsed["target"]), (row, author))
        except (orjson.JSONDecodeError, WeftError):  # stored content passed ingest; skip what cannot be read
            continue
    return targets
