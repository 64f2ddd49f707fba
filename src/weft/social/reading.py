"""Reading posts as one viewer: statuses with their people, timelines, threads, edits,
who liked or boosted. Every post passes ``weft.store.statuses.visible_to`` first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.ids import entry_id_text, parse_entry_id
from weft.errors import NotFound
from weft.social.model import Attachment, Boost, Status
from weft.social.remote_media import RemoteMediaViews, uncached_views
from weft.store import boosts, interactions, people, queries, statuses
from weft.store.account_statuses import AccountFilters, TimelineItem, account_statuses
from weft.store.home_timeline import home_timeline
from weft.store.schema import BOOST, LIKE
from weft.store.statuses import Page, TimelineKind
from weft.store.uploads import uploads_by_blob

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.node import Node

__all__ = ["Reader", "viewer_identity"]

MEDIA_SCAN_LIMIT = 80
MEDIA_SCAN_BATCHES = 10


def viewer_identity(viewer: Account | None) -> int | None:
    return None if viewer is None else viewer.identity


class People:
    """Persons by identity row, each read once per request."""

    def __init__(self, conn: AsyncConnection, now_ms: int) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self._known: dict[int, people.Person] = {}

    async def get(self, identity: int) -> people.Person:
        found = self._known.get(identity)
        if found is None:
            found = await people.person(self.conn, identity, now_ms=self.now_ms)
            if found is None:
                raise NotFound(f"no account {identity}")
            self._known[identity] = found
        return found

    async def many(self, identities: Iterable[int]) -> list[people.Person]:
        wanted = list(identities)
        await self.load(wanted)
        return [await self.get(identity) for identity in wanted]

    async def load(self, identities: Iterable[int]) -> None:
        """Read the persons not read yet, in one go."""
        missing = [identity for identity in identities if identity not in self._known]
        if missing:
            self._known.update(await people.persons(self.conn, missing, now_ms=self.now_ms))

    async def by_did(self, did: str) -> people.Person | None:
        identity = await people.identity_id_of(self.conn, did)
        return None if identity is None else await self.get(identity)


async def _none_silenced() -> list[str]:
    return []


class Reader:
    """What one node shows of its posts."""

    def __init__(self, node: Node) -> None:
        self.node = node
        # The domains server moderation silenced (Social sets it to moderation's): kept out
        # of the public and hashtag timelines.
        self.silenced_domains: Callable[[], Awaitable[list[str]]] = _none_silenced
        # How Fediverse posts' files are shown (Social sets the site's); without it, as not kept.
        self.media: RemoteMediaViews | None = None

    async def hydrate(self, conn: AsyncConnection, viewer: Account | None, rows: Sequence[int],
                      boosts: dict[int, tuple[int, int, bytes, int]] | None = None,
                      folks: People | None = None) -> list[Status]:
        """Statuses of ``rows`` (already checked as visible), in that order.

        ``boosts`` maps a row to (boost row, booster, boost entry id, ts) for timeline entries
        that are boosts of it.
        """
        now = self.node.clock()
        folks = folks or People(conn, now)
        found = await statuses.status_rows(conn, list(dict.fromkeys(rows)), now_ms=now)
        remote_media = (await self.media.of_rows(conn, list(found.values())) if self.media is not None
                        else uncached_views(found.values()))
        me = viewer_identity(viewer)
        marks = (await statuses.viewers_marks(conn, [me], list(found)))[me] if me is not None else None
        blobs = [a["blob"] for row in found.values() for a in row.attachments if isinstance(a.get("blob"), str)]
        uploads = await uploads_by_blob(conn, blobs)
        mention_ids = await people.identity_ids_of(conn, {did for row in found.values() for did in row.mentions})
        await folks.load([row.author for row in found.values()] + list(mention_ids.values())
                         + [booster for _, booster, _, _ in (boosts or {}).values()])
        parents = await interactions.posts_of_entries(
            conn, list({parse_entry_id(row.reply_to) for row in found.values() if row.reply_to}))
        result = []
        for row_id in rows:
            row = found.get(row_id)
            if row is None:
                continue
            boost = None
            if boosts and row_id in boosts:
                boost_row, booster, entry_id, ts = boosts[row_id]
                boost = Boost(statuses.status_id(ts, boost_row), entry_id_text(entry_id), await folks.get(booster), ts)
            mentioned = [await folks.get(mention_ids[did]) for did in row.mentions if did in mention_ids]
            parent = parents.get(parse_entry_id(row.reply_to)) if row.reply_to else None
            result.append(Status(
                row=row, author=await folks.get(row.author), mentioned=tuple(mentioned),
                attachments=tuple(_attachment(a, uploads) for a in row.attachments if isinstance(a.get("blob"), str)),
                favourited=marks is not None and row_id in marks["favourited"],
                reblogged=marks is not None and row_id in marks["reblogged"],
                bookmarked=marks is not None and row_id in marks["bookmarked"], boost=boost,
                reply_to_id=None if parent is None else statuses.status_id(parent[1], parent[0]),
                reply_to_account=None if parent is None else parent[2], remote_media=remote_media.get(row_id, ())))
        if self.media is not None:
            self.media.want_people({status.author.identity: status.author for status in result}.values())
        return result

    async def visible_row(self, conn: AsyncConnection, viewer: Account | None, status_id: int) -> int:
        """The post row of a status the viewer may see; NotFound otherwise (as if it did not exist)."""
        row = await statuses.row_of_status(conn, status_id)
        if row is None or not await statuses.visible_rows(conn, [row], viewer_identity(viewer),
                                                          now_ms=self.node.clock()):
            raise NotFound(f"no status {status_id}")
        return row

    async def status(self, viewer: Account | None, status_id: int) -> Status:
        """A post, or a boost (wrapped around its post), that the viewer may see."""
        found = await self.many(viewer, [status_id])
        if not found:
            raise NotFound(f"no status {status_id}")
        return found[0]

    async def many(self, viewer: Account | None, status_ids: Sequence[int]) -> list[Status]:
        """The statuses among ``status_ids`` (of posts or boosts) the viewer may see, in that order."""
        now, me = self.node.clock(), viewer_identity(viewer)
        async with self.node.db.read() as conn:
            found: dict[int, TimelineItem] = {}
            for sid in dict.fromkeys(status_ids[:80]):
                row = await statuses.row_of_status(conn, sid)
                if row is not None:
                    found[sid] = TimelineItem(row, None)
                elif (boost := await boosts.boost_by_status(conn, sid, me, now_ms=now)) is not None:
                    found[sid] = boost
            shown = await statuses.visible_rows(conn, [item.post for item in found.values()], me, now_ms=now)
            return await self.items(conn, viewer, [found[sid] for sid in status_ids[:80]
                                                    if sid in found and found[sid].post in shown])

    async def timeline(self, viewer: Account | None, kind: TimelineKind, page: Page, *, tag: str | None = None,
                       account: int | None = None, only_media: bool = False, local: bool = False) -> list[Status]:
        """A page of a timeline, newest first; ``only_media``: of the posts with images only;
        ``local``: of the posts by this node's own identities only."""
        async with self.node.db.read() as conn:
            if only_media:
                rows = await self._with_media(conn, viewer, kind, page, tag=tag, account=account, local=local)
            elif kind == "home" and viewer is not None and not local:
                items = await home_timeline(conn, viewer.identity, page, now_ms=self.node.clock())
                return await self.items(conn, viewer, items)
            else:
                rows = await statuses.timeline(conn, kind, viewer_identity(viewer), page, now_ms=self.node.clock(),
                                               tag=tag, account=account, local=local,
                                               silenced=await self.silenced_domains())
            return await self.hydrate(conn, viewer, rows)

    async def _with_media(self, conn: AsyncConnection, viewer: Account | None, kind: TimelineKind, page: Page, *,
                          tag: str | None, account: int | None, local: bool) -> list[int]:
        """The rows of a page of posts with images: the timeline read on in batches, going
        away from the page's cursor, until the page is full or ``MEDIA_SCAN_BATCHES`` batches
        were read (a page may then be short; its Link header still leads on)."""
        found: list[int] = []
        scan = Page(limit=MEDIA_SCAN_LIMIT, max_id=page.max_id, since_id=page.since_id, min_id=page.min_id)
        for _ in range(MEDIA_SCAN_BATCHES):
            batch = await statuses.timeline(conn, kind, viewer_identity(viewer), scan, now_ms=self.node.clock(),
                                            tag=tag, account=account, local=local,
                                            silenced=await self.silenced_domains())
            if not batch:
                break
            rows = await statuses.status_rows(conn, batch, now_ms=self.node.clock())
            with_media = [row for row in batch if row in rows and rows[row].attachments]
            if page.min_id is not None:   # a batch of the posts just after min_id: read on towards newer
                found = with_media + found
                scan = Page(limit=MEDIA_SCAN_LIMIT, min_id=rows[batch[0]].id)
            else:
                found += with_media
                scan = Page(limit=MEDIA_SCAN_LIMIT, max_id=rows[batch[-1]].id, since_id=page.since_id)
            if len(found) >= page.limit or len(batch) < MEDIA_SCAN_LIMIT:
                break
        return found[-page.limit:] if page.min_id is not None else found[:page.limit]

    async def of_account(self, viewer: Account | None, account: int, page: Page,
                         filters: AccountFilters = AccountFilters()) -> list[Status]:
        """A page of a person's posts and boosts (Mastodon's account statuses), newest first."""
        async with self.node.db.read() as conn:
            items = await account_statuses(conn, viewer_identity(viewer), account, page, now_ms=self.node.clock(),
                                           filters=filters)
            return await self.items(conn, viewer, items)

    async def items(self, conn: AsyncConnection, viewer: Account | None, items: Sequence[TimelineItem],
                    folks: People | None = None) -> list[Status]:
        """Statuses of posts and boosts (already checked as visible), in that order."""
        folks = folks or People(conn, self.node.clock())
        plain = await self.hydrate(conn, viewer, [item.post for item in items if item.boost is None], folks=folks)
        by_item: dict[tuple[int, int | None], Status] = {(s.row.row, None): s for s in plain}
        # A post may be on a page as itself and as boosts of it (by its author, or, asked for
        # by status ids, by several people): each boost is hydrated apart from the post.
        waiting = [item.boost for item in items if item.boost is not None]
        while waiting:
            batch: dict[int, tuple[int, int, bytes, int]] = {}
            for item in items:
                if item.boost in waiting and item.post not in batch:
                    batch[item.post] = item.boost
                    waiting.remove(item.boost)
            for status in await self.hydrate(conn, viewer, list(batch), boosts=batch, folks=folks):
                by_item[(status.row.row, batch[status.row.row][0])] = status
        keys = ((item.post, None if item.boost is None else item.boost[0]) for item in items)
        return [by_item[key] for key in keys if key in by_item]

    async def context(self, viewer: Account | None, status_id: int) -> tuple[list[Status], list[Status]]:
        """(ancestors oldest first, descendants in reading order) that the viewer may see."""
        async with self.node.db.read() as conn:
            row = await self.visible_row(conn, viewer, status_id)
            target = (await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row]
            root = parse_entry_id(target.root or target.entry_id)
            thread = await interactions.thread_rows(conn, root)
            by_entry = {entry_id: (post_row, parent) for post_row, entry_id, parent in thread}
            ancestors: list[int] = []
            parent = parse_entry_id(target.reply_to) if target.reply_to else None
            while parent is not None and parent in by_entry and len(ancestors) < 200:
                ancestors.append(by_entry[parent][0])
                parent = by_entry[parent][1]
            ancestors.reverse()
            children: dict[bytes, list[tuple[int, bytes]]] = {}
            for post_row, entry_id, parent_id in thread:
                if parent_id is not None:
                    children.setdefault(parent_id, []).append((post_row, entry_id))
            descendants: list[int] = []
            stack = list(reversed(children.get(parse_entry_id(target.entry_id), [])))
            while stack and len(descendants) < 1000:
                post_row, entry_id = stack.pop()
                descendants.append(post_row)
                stack.extend(reversed(children.get(entry_id, [])))
            shown = await statuses.visible_rows(conn, ancestors + descendants, viewer_identity(viewer),
                                                now_ms=self.node.clock())
            folks = People(conn, self.node.clock())
            return (await self.hydrate(conn, viewer, [r for r in ancestors if r in shown], folks=folks),
                    await self.hydrate(conn, viewer, [r for r in descendants if r in shown], folks=folks))

    async def history(self, viewer: Account | None, status_id: int) -> tuple[Status, list[dict[str, Any]]]:
        """The status and its versions, oldest first: {id, ts, text, summary, sensitive}."""
        async with self.node.db.read() as conn:
            row = await self.visible_row(conn, viewer, status_id)
            status = (await self.hydrate(conn, viewer, [row]))[0]
            versions = await queries.history(conn, parse_entry_id(status.row.entry_id), warnings=True)
        return status, versions

    async def reactors(self, viewer: Account | None, status_id: int, kind: str, *, limit: int,
                       max_id: int | None = None) -> list[tuple[int, people.Person]]:
        """(reaction row, person) of who liked (``favourite``) or boosted (``reblog``) a status."""
        async with self.node.db.read() as conn:
            row = await self.visible_row(conn, viewer, status_id)
            target = (await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row]
            found = await interactions.reactors(conn, parse_entry_id(target.entry_id),
                                                LIKE if kind == "favourite" else BOOST, limit=limit, before=max_id)
            folks = People(conn, self.node.clock())
            return [(reaction_row, await folks.get(author)) for reaction_row, author in found]


def _attachment(item: dict[str, Any], uploads: dict[str, Any]) -> Attachment:
    blob = item["blob"]
    upload = uploads.get(blob)
    return Attachment(
        id=str(upload.id) if upload is not None else blob[:16], blob=blob,
        thumb=item.get("thumb") if isinstance(item.get("thumb"), str) else None,
        mime=item.get("mime"), alt=item.get("alt"), width=item.get("width"), height=item.get("height"),
        blurhash=item.get("blurhash"))
