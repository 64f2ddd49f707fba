"""Follows, follow requests, blocks and mutes of hosted accounts, and how they look.

A follow of a locked account is a request until its owner answers with a signed
``follow_accept`` or ``follow_reject``; until then the follower sees none of the
followers-only posts (weft.store.social.follows_effectively). A ``follow_reject`` also
removes a follower of an open account. A block ends the follows both ways, as on
Mastodon, and nobody follows across a block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weft.errors import Forbidden, NotFound, UsageError
from weft.ratelimit import limit
from weft.social.model import Relationship
from weft.social.reading import People
from weft.store import people, relationships
from weft.store.people import Person

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["RELATION_WRITES", "Following"]

# The content type each action publishes.
RELATION_WRITES = {"follow": "follow", "unfollow": "unfollow", "block": "block", "unblock": "unblock",
                   "mute": "mute", "unmute": "unmute"}


class Following:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.node = site.node

    async def person(self, identity: int) -> Person:
        async with self.node.db.read() as conn:
            found = await people.person(conn, identity, now_ms=self.node.clock())
        if found is None:
            raise NotFound(f"no account {identity}")
        return found

    async def relate(self, account: Account, identity: int, action: str) -> Relationship:
        """Follow, unfollow, block, unblock, mute or unmute ``identity``; idempotent."""
        if action not in RELATION_WRITES:
            raise UsageError(f"unknown action {action!r}")
        other = await self.person(identity)
        if other.identity == account.identity:
            raise UsageError(f"you cannot {action} yourself")
        current = (await self.relationships(account, [identity]))[0]
        if action == "follow" and (current.blocking or current.blocked_by):
            raise Forbidden("you cannot follow an account you block or that blocks you")
        already = {"follow": current.following or current.requested, "unfollow": not (current.following or current.requested),
                   "block": current.blocking, "unblock": not current.blocking,
                   "mute": current.muting, "unmute": not current.muting}[action]
        if not already:
            limit(self.site.limits.posting, account.id)
            author = self.site.accounts.author(await self.site.accounts.account(account.id))
            if action == "block" and (current.following or current.requested):
                await self.node.publish({"type": "unfollow", "target": other.did}, author=author)
            if action == "block" and (current.followed_by or current.requested_by):
                # As Mastodon does: whom you block no longer follows you (nor asks to).
                await self.node.publish({"type": "follow_reject", "target": other.did}, author=author)
            await self.node.publish({"type": RELATION_WRITES[action], "target": other.did}, author=author)
        return (await self.relationships(account, [identity]))[0]

    async def relationships(self, account: Account, identities: list[int], *,
                            known_only: bool = False) -> list[Relationship]:
        """The account's relation to each of ``identities``; with ``known_only``, those this node
        does not know are left out (else each is answered, as a stranger)."""
        async with self.node.db.read() as conn:
            if known_only:
                known = await relationships.known_identities(conn, identities)
                identities = [identity for identity in identities if identity in known]
            rows = await relationships.relation_rows(conn, account.identity, identities)
        return [Relationship(row.other, row.following, row.requested, row.followed_by, row.blocking,
                             row.blocked_by, row.muting, row.requested_by) for row in rows]

    async def followers(self, identity: int, *, limit: int, max_id: int | None = None,
                        since_id: int | None = None) -> list[Person]:
        async with self.node.db.read() as conn:
            rows = await relationships.follower_rows(conn, identity, limit=limit, max_id=max_id, since_id=since_id)
            return await People(conn, self.node.clock()).many(rows)

    async def following(self, identity: int, *, limit: int, max_id: int | None = None,
                        since_id: int | None = None) -> list[Person]:
        async with self.node.db.read() as conn:
            rows = await relationships.following_rows(conn, identity, limit=limit, max_id=max_id, since_id=since_id)
            return await People(conn, self.node.clock()).many(rows)

    async def follow_requests(self, account: Account, *, limit: int, max_id: int | None = None) -> list[Person]:
        async with self.node.db.read() as conn:
            rows = await relationships.follow_request_rows(conn, account.identity, limit=limit, max_id=max_id)
            return await People(conn, self.node.clock()).many(rows)

    async def answer(self, account: Account, identity: int, *, accept: bool) -> Relationship:
        """Let a follower in (``follow_accept``) or turn them away (``follow_reject``)."""
        other = await self.person(identity)
        async with self.node.db.read() as conn:
            waiting = await relationships.follow_request_rows(conn, account.identity, limit=1, max_id=identity + 1)
        current = (await self.relationships(account, [identity]))[0]
        if identity not in waiting and not (current.followed_by and not accept):
            raise NotFound("no follow request from this account")
        author = self.site.accounts.author(await self.site.accounts.account(account.id))
        await self.node.publish({"type": "follow_accept" if accept else "follow_reject", "target": other.did},
                                author=author)
        return (await self.relationships(account, [identity]))[0]

    async def let_in_followers(self, account: Account) -> int:
        """Answer ``follow_accept`` to everyone who follows the account now; how many. Called
        before an account locks, so that locking keeps its followers (as on Mastodon) instead
        of turning them into requests."""
        author = self.site.accounts.author(await self.site.accounts.account(account.id))
        count, cursor = 0, None
        while True:
            async with self.node.db.read() as conn:
                rows = await relationships.follower_rows(conn, account.identity, limit=500, max_id=cursor)
                dids = [person.did for person in await People(conn, self.node.clock()).many(rows)]
            for did in dids:
                await self.node.publish({"type": "follow_accept", "target": did}, author=author)
            count += len(dids)
            if len(rows) < 500:
                return count
            cursor = rows[-1]

    async def blocked(self, account: Account, *, limit: int, max_id: int | None = None) -> list[Person]:
        return await self._relation_list(account, "block", limit=limit, max_id=max_id)

    async def muted(self, account: Account, *, limit: int, max_id: int | None = None) -> list[Person]:
        return await self._relation_list(account, "mute", limit=limit, max_id=max_id)

    async def _relation_list(self, account: Account, kind: str, *, limit: int, max_id: int | None) -> list[Person]:
        async with self.node.db.read() as conn:
            rows = await relationships.relation_targets(conn, account.identity, kind, limit=limit, max_id=max_id)
            return await People(conn, self.node.clock()).many(rows)
