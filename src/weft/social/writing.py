"""Writing as a hosted account: posts, edits, deletes, likes, boosts, bookmarks.

Everything is signed by the account's web device and enters through ``Node.publish``,
the ingest path any peer's entry takes; bookmarks alone are private rows, never entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from weft.core.content import MAX_ATTACHMENTS, VISIBILITIES
from weft.core.ids import entry_id_text, parse_entry_id
from weft.core.text import count_characters, hashtags, mentions
from weft.errors import Forbidden, NotFound, UsageError
from weft.ratelimit import limit
from weft.social.model import Draft, Status
from weft.social.reading import Reader
from weft.social.remote import remote_mentions
from weft.store import interactions, people, statuses
from weft.store.accounts import account_by
from weft.store.schema import BOOST, LIKE
from weft.store.social import normal_tag
from weft.store.uploads import attach_uploads, detach_uploads, upload_rows

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from weft.accounts import Account
    from weft.node import LocalIdentity
    from weft.site import Site

__all__ = ["MAX_CHARACTERS", "MAX_MEDIA_ATTACHMENTS", "MAX_SUMMARY_CHARS", "Posting"]

MAX_CHARACTERS: Final = 5000
MAX_MEDIA_ATTACHMENTS: Final = min(4, MAX_ATTACHMENTS)
MAX_SUMMARY_CHARS: Final = 500
MIN_EXPIRY_MS: Final = 60_000
MAX_EXPIRY_MS: Final = 366 * 86_400_000


class Posting:
    """The writes of hosted accounts."""

    def __init__(self, site: Site, reader: Reader) -> None:
        self.site = site
        self.node = site.node
        self.reader = reader
        # Told of writes that are not entries (bookmarks), which the ingest's feed never sees.
        self.on_private_change: Callable[[], None] = lambda: None

    async def _author(self, account: Account) -> LocalIdentity:
        return self.site.accounts.author(await self.site.accounts.account(account.id))

    async def _status_of_entry(self, account: Account, entry_id: bytes) -> Status:
        async with self.node.db.read() as conn:
            row = await statuses.row_of_entry(conn, entry_id)
            if row is None:
                raise NotFound("the post was not stored")
            return (await self.reader.hydrate(conn, account, [row]))[0]

    # -- posts ---------------------------------------------------------------------

    async def compose(self, account: Account, draft: Draft) -> Status:
        """Publish a post: mentions of local accounts resolved, hashtags indexed, images attached."""
        limit(self.site.limits.posting, account.id)
        text = draft.text.replace("\r\n", "\n")
        if count_characters(text) > MAX_CHARACTERS:
            raise UsageError(f"a post has at most {MAX_CHARACTERS} characters")
        if not text.strip() and not draft.media_ids:
            raise UsageError("a post needs text or an image")
        visibility = draft.visibility or account.settings.get("default_visibility") or "public"
        if visibility not in VISIBILITIES:
            raise UsageError(f"visibility must be one of {', '.join(VISIBILITIES)}")
        content: dict[str, Any] = {"type": "post", "text": text, "visibility": visibility}
        expires = self._expiry(draft.expires_in_ms)
        # Fediverse people first, outside the read: finding one not held yet is a fetch.
        elsewhere = await remote_mentions(self.site, mentions(text)[:64])
        async with self.node.db.read() as conn:
            mentioned = await self._mentioned(conn, text) + list(elsewhere.values())
            if draft.reply_to is not None:
                parent = await self._parent(conn, account, draft.reply_to)
                content["reply_to"] = parent.entry_id
                content["root"] = parent.root or parent.entry_id
                if parent.author_did != account.did:
                    mentioned.insert(0, parent.author_did)
            attachments, upload_ids = await self._attachments(conn, account, draft.media_ids)
        mentioned = [did for did in dict.fromkeys(mentioned) if did != account.did]
        if mentioned:
            content["mentions"] = mentioned[:64]
        tags = [tag for tag in (normal_tag(name) for name in hashtags(text)) if tag]
        if tags:
            content["tags"] = list(dict.fromkeys(tags))[:64]
        if attachments:
            content["attachments"] = attachments
        if draft.summary and draft.summary.strip():
            if len(draft.summary) > MAX_SUMMARY_CHARS:
                raise UsageError(f"a content warning has at most {MAX_SUMMARY_CHARS} characters")
            content["summary"] = draft.summary.strip()
        if draft.sensitive or "summary" in content:
            content["sensitive"] = True
        if draft.lang:
            content["lang"] = draft.lang[:16]
        entry = await self.node.publish(content, expires=expires, author=await self._author(account))
        if upload_ids:
            async with self.node.db.write() as conn:
                row = await statuses.row_of_entry(conn, entry.id)
                if row is not None:
                    await attach_uploads(conn, upload_ids, row)
        return await self._status_of_entry(account, entry.id)

    def _expiry(self, expires_in_ms: int | None) -> int | None:
        if expires_in_ms is None:
            return None
        if not MIN_EXPIRY_MS <= expires_in_ms <= MAX_EXPIRY_MS:
            raise UsageError("a post can expire after one minute at the soonest and a year at the latest")
        return self.node.clock() + expires_in_ms

    async def _mentioned(self, conn: AsyncConnection, text: str) -> list[str]:
        """DIDs of the accounts ``text`` mentions that this node knows (``@user``, ``@user@this-host``,
        a DID's short form). Mentions of other servers are weft.social.remote's."""
        found: list[str] = []
        for user, host in mentions(text)[:64]:
            if host is not None and host.lower() != self.site.host.lower():
                continue
            row = await account_by(conn, username=user)
            if row is not None and row.state == "active":
                found.append(row.did)
                continue
            if len(user) == 16 and user.isalnum():
                ids = await people.identity_ids_with_prefix(conn, "did:weft:" + user.lower())
                if len(ids) == 1:
                    person = await people.person(conn, ids[0], now_ms=self.node.clock())
                    if person is not None:
                        found.append(person.did)
        return found

    async def _parent(self, conn: AsyncConnection, account: Account, status_id: int) -> statuses.StatusRow:
        try:
            row = await self.reader.visible_row(conn, account, status_id)
        except NotFound:
            raise NotFound(f"the post you reply to ({status_id}) is not there") from None
        return (await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row]

    async def _attachments(self, conn: AsyncConnection, account: Account,
                           media_ids: tuple[int, ...]) -> tuple[list[dict[str, Any]], list[int]]:
        wanted = list(dict.fromkeys(media_ids))
        if len(wanted) > MAX_MEDIA_ATTACHMENTS:
            raise UsageError(f"a post has at most {MAX_MEDIA_ATTACHMENTS} images")
        uploads = await upload_rows(conn, account.id, wanted)
        attachments = []
        for media_id in wanted:
            upload = uploads.get(media_id)
            if upload is None:
                raise NotFound(f"no upload {media_id}")
            if upload.state == "processing":
                raise UsageError(f"upload {media_id} is still being processed; try again in a moment")
            if upload.state != "ready" or upload.blob is None:
                raise UsageError(f"upload {media_id} could not be processed: {upload.error}")
            if upload.post is not None:
                raise UsageError(f"upload {media_id} belongs to another post")
            item: dict[str, Any] = {"blob": upload.blob}
            original = upload.meta.get("original", {})
            for key, value in (("mime", upload.mime), ("alt", upload.description), ("thumb", upload.thumb),
                               ("blurhash", upload.blurhash), ("width", original.get("width")),
                               ("height", original.get("height"))):
                if value is not None:
                    item[key] = value
            attachments.append(item)
        return attachments, wanted

    async def _own(self, account: Account, status_id: int) -> statuses.StatusRow:
        async with self.node.db.read() as conn:
            row = await self.reader.visible_row(conn, account, status_id)
            found = (await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row]
        if found.author != account.identity:
            raise Forbidden("only its author can change a post")
        return found

    async def edit(self, account: Account, status_id: int, *, text: str, summary: str | None = None,
                   sensitive: bool | None = None) -> Status:
        """A new version of the text (and content warning); the history keeps the old ones."""
        limit(self.site.limits.posting, account.id)
        target = await self._own(account, status_id)
        if count_characters(text) > MAX_CHARACTERS:
            raise UsageError(f"a post has at most {MAX_CHARACTERS} characters")
        if not text.strip() and not target.attachments:
            raise UsageError("a post needs text or an image")
        content: dict[str, Any] = {"type": "edit", "target": target.entry_id, "text": text.replace("\r\n", "\n")}
        if summary and summary.strip():
            if len(summary) > MAX_SUMMARY_CHARS:
                raise UsageError(f"a content warning has at most {MAX_SUMMARY_CHARS} characters")
            content["summary"] = summary.strip()
        if sensitive is not None or "summary" in content:
            content["sensitive"] = bool(sensitive) or "summary" in content
        await self.node.publish(content, author=await self._author(account))
        return await self._status_of_entry(account, parse_entry_id(target.entry_id))

    async def delete(self, account: Account, status_id: int, *, keep_media: bool = True) -> Status:
        """Delete a post; returns it as it was (Mastodon's "delete and redraft" needs the text,
        and may post its images again). With ``keep_media`` its images are freed from the post
        for a redraft and kept a while (weft.media.upkeep.WAITING_KEPT_MS); without, they leave
        the disk with the post, unless another post carries the same image."""
        await self._own(account, status_id)
        before = await self.reader.status(account, status_id)
        freed: list[int] = []
        if before.attachments and keep_media:
            # Freed before the delete commits: the images of a deleted post are removed right
            # after its commit, and these must then be waiting for a redraft.
            async with self.node.db.write() as conn:
                freed = await detach_uploads(conn, before.row.row, self.node.clock())
        try:
            await self.node.publish({"type": "delete", "target": before.row.entry_id},
                                    author=await self._author(account))
        except BaseException:
            if freed:  # the post stays: so do its uploads
                async with self.node.db.write() as conn:
                    await attach_uploads(conn, freed, before.row.row)
            raise
        return before

    # -- reactions -----------------------------------------------------------------

    async def react(self, account: Account, status_id: int, kind: str, *, on: bool) -> Status:
        """Like (``favourite``) or boost (``reblog``) a status, or take it back; idempotent."""
        code = LIKE if kind == "favourite" else BOOST
        async with self.node.db.read() as conn:
            row = await self.reader.visible_row(conn, account, status_id)
            target = (await statuses.status_rows(conn, [row], now_ms=self.node.clock()))[row]
            standing = await interactions.own_reaction(conn, account.identity, parse_entry_id(target.entry_id), code)
        if code == BOOST and on and target.visibility in ("followers", "direct"):
            raise Forbidden("followers-only and direct posts cannot be boosted")
        author = await self._author(account)
        if on and standing is None:
            limit(self.site.limits.posting, account.id)
            await self.node.publish({"type": "like" if code == LIKE else "boost", "target": target.entry_id},
                                    author=author)
        elif not on and standing is not None:
            await self.node.publish({"type": "delete", "target": entry_id_text(standing[0])}, author=author)
        async with self.node.db.read() as conn:
            if code == BOOST and on:
                boost = await interactions.own_reaction(conn, account.identity, parse_entry_id(target.entry_id), code)
                if boost is not None:
                    entry_id, boost_row, ts = boost
                    return (await self.reader.hydrate(conn, account, [row],
                                                      boosts={row: (boost_row, account.identity, entry_id, ts)}))[0]
            return (await self.reader.hydrate(conn, account, [row]))[0]

    async def bookmark(self, account: Account, status_id: int, *, on: bool) -> Status:
        async with self.node.db.write() as conn:
            row = await self.reader.visible_row(conn, account, status_id)
            if on:
                await interactions.add_bookmark(conn, account.identity, row, self.node.clock())
            else:
                await interactions.remove_bookmark(conn, account.identity, row)
        self.on_private_change()
        return await self.reader.status(account, status_id)
