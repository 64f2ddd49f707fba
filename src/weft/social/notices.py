"""Notifications of hosted accounts and their read markers."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from weft.errors import NotFound, UsageError
from weft.social.model import Notification
from weft.social.reading import People, Reader
from weft.store import notices, statuses
from weft.store.notices import Marker
from weft.store.schema import NOTIFICATION_KINDS

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.node import Node

__all__ = ["KIND_CODES", "MARKER_TIMELINES", "Notices"]

KIND_CODES = {name: code for code, name in NOTIFICATION_KINDS.items()}
MARKER_TIMELINES = ("home", "notifications")


class Notices:
    def __init__(self, node: Node, reader: Reader) -> None:
        self.node = node
        self.reader = reader

    async def page(self, account: Account, *, limit: int, max_id: int | None = None, since_id: int | None = None,
                   min_id: int | None = None, types: Collection[str] | None = None,
                   exclude_types: Collection[str] = (), actor: int | None = None) -> list[Notification]:
        """Newest first. A notification about a post the account may no longer see (deleted,
        expired, its author blocked it) is left out rather than shown without its post."""
        kinds = {KIND_CODES[name] for name in (types if types else KIND_CODES) if name in KIND_CODES}
        kinds -= {KIND_CODES[name] for name in exclude_types if name in KIND_CODES}
        async with self.node.db.read() as conn:
            rows = await notices.notice_rows(conn, account.identity, limit=max(1, min(limit, 80)), max_id=max_id,
                                             since_id=since_id, min_id=min_id, kinds=kinds, actor=actor)
            posts = [row.post for row in rows if row.post is not None]
            shown = await statuses.visible_rows(conn, posts, account.identity, now_ms=self.node.clock())
            folks = People(conn, self.node.clock())
            by_row = {status.row.row: status
                      for status in await self.reader.hydrate(conn, account, [p for p in posts if p in shown],
                                                              folks=folks)}
            result = []
            for row in rows:
                if row.post is not None and row.post not in by_row:
                    continue
                result.append(Notification(row.id, NOTIFICATION_KINDS[row.kind], row.ts, await folks.get(row.actor),
                                           by_row.get(row.post) if row.post is not None else None))
            return result

    async def one(self, account: Account, notice_id: int) -> Notification:
        found = await self.page(account, limit=1, max_id=notice_id + 1)
        if not found or found[0].id != notice_id:
            raise NotFound(f"no notification {notice_id}")
        return found[0]

    async def dismiss(self, account: Account, notice_id: int) -> None:
        async with self.node.db.write() as conn:
            if not await notices.dismiss_notice(conn, account.identity, notice_id):
                raise NotFound(f"no notification {notice_id}")

    async def clear(self, account: Account) -> None:
        async with self.node.db.write() as conn:
            await notices.clear_notices(conn, account.identity)

    async def markers(self, account: Account, timelines: Collection[str]) -> list[Marker]:
        async with self.node.db.read() as conn:
            return await notices.marker_rows(conn, account.id, [t for t in timelines if t in MARKER_TIMELINES])

    async def set_markers(self, account: Account, positions: dict[str, str]) -> list[Marker]:
        """Move the markers of ``positions`` (timeline -> last read id)."""
        if not positions or set(positions) - set(MARKER_TIMELINES):
            raise UsageError(f"markers are kept for {' and '.join(MARKER_TIMELINES)}")
        for value in positions.values():
            if not value.isdigit() or len(value) > 30:
                raise UsageError("last_read_id must be an id")
        async with self.node.db.write() as conn:
            return [await notices.set_marker(conn, account.id, timeline, value, self.node.clock())
                    for timeline, value in positions.items()]
