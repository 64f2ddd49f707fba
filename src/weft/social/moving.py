"""Moving an account, as Mastodon's account migration does, the weft way (decision 0007,
"Migration"): the new account lists the old one among its profile's ``aliases`` (a signed
claim of its own, served as ``alsoKnownAs``); the old one then publishes a ``move`` entry
naming the new one, which federates as a Move to its followers. Every server moves its own
people who follow the old account, once it has seen the new one's aliases name it.

The aliases of someone on another server are read through the site's directory
(:class:`weft.social.remote.RemoteDirectory`, fetched again each time), since this
service may not import weft.federation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlsplit

from weft.core.content import MAX_ALIASES
from weft.core.ids import is_actor_iri
from weft.errors import AuthError, NotFound, UsageError, WeftError
from weft.social.names import identity_named
from weft.social.remote import find_remote
from weft.store import people
from weft.store.accounts import account_by
from weft.store.moves import local_followers

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["MoveTarget", "Moving"]

log = logging.getLogger("weft.social.moving")
_OWN_ACTOR_PATH: Final = "/users/"


@dataclass(frozen=True)
class MoveTarget:
    """An account someone moves to or from: its identity row, the name content gives it (a
    did:weft here, an actor IRI elsewhere), its actor IRI, and its handle."""

    identity: int
    did: str
    actor: str
    handle: str
    local: bool


class Moving:
    """Aliases, moving out, and taking followers along (``site.social.moving``)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.node = site.node

    def actor_of(self, username: str) -> str:
        """A hosted account's actor IRI (weft.federation.urls' scheme, written again here)."""
        return f"{self.site.base_url}{_OWN_ACTOR_PATH}{username}"

    async def _profile(self, account: Account) -> dict[str, Any]:
        profile: dict[str, Any] = (await self.node.profile(account.did))["profile"]
        return profile

    async def aliases(self, account: Account) -> list[str]:
        """The actor IRIs the account says it moves from."""
        aliases = (await self._profile(account)).get("aliases")
        return [alias for alias in aliases if isinstance(alias, str)] if isinstance(aliases, list) else []

    # -- finding the other account ------------------------------------------------------

    def _own_username(self, query: str) -> str | None:
        """The username an URL of this site names (its actor or profile page), else None."""
        if not is_actor_iri(query):
            return None
        parts, ours = urlsplit(query), urlsplit(self.site.base_url)
        if parts.netloc.lower() != ours.netloc.lower():
            return None
        path = unquote(parts.path).rstrip("/")
        for prefix in (_OWN_ACTOR_PATH, "/@"):
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
                return path[len(prefix):]
        return None

    async def find(self, query: str) -> MoveTarget:
        """The account ``query`` names: a handle (``user@host``, or a username here) or an
        actor's or profile's URL; a remote one is looked up on its server. NotFound if none."""
        query = query.strip()
        if not query or len(query) > 2048:
            raise UsageError("give the account's handle (user@host) or address")
        own = self._own_username(query)
        async with self.node.db.read() as conn:
            identity = await identity_named(conn, own if own is not None else query, local_host=self.site.host)
        if identity is None:
            identity = await find_remote(self.site, query, resolve=True)
        if identity is None:
            raise NotFound(f"no account {query[:200]} was found")
        async with self.node.db.read() as conn:
            person = await people.person(conn, identity, now_ms=self.node.clock())
        if person is not None and person.username is not None:
            return MoveTarget(identity, person.did, self.actor_of(person.username),
                              f"{person.username}@{self.site.host}", local=True)
        if person is None or person.remote is None:
            raise NotFound(f"{query[:200]} is not an account of the Fediverse")
        return MoveTarget(identity, person.did, person.remote.iri, person.remote.handle, local=False)

    async def aliases_of(self, target: MoveTarget) -> tuple[str, ...]:
        """The aliases ``target`` lists now: its profile's here, its ``alsoKnownAs`` fetched
        fresh elsewhere (UsageError when its server cannot be reached)."""
        if target.local:
            async with self.node.db.read() as conn:
                account = await account_by(conn, identity=target.identity)
            if account is None:
                return ()
            aliases = (await self.node.profile(account.did))["profile"].get("aliases")
            return tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else ()
        found = await self.site.directory.aliases(target.identity) if self.site.directory is not None else None
        if found is None:
            raise UsageError(f"the server of {target.handle} could not be reached; try again later")
        return found

    # -- aliases -------------------------------------------------------------------------

    async def _publish_aliases(self, account: Account, aliases: list[str]) -> None:
        profile = {**await self._profile(account), "type": "profile", "aliases": aliases}
        if not aliases:
            del profile["aliases"]
        author = self.site.accounts.author(await self.site.accounts.account(account.id))
        await self.node.publish(profile, author=author)   # federates as Update(Person)

    async def add_alias(self, account: Account, query: str) -> MoveTarget:
        """List the account ``query`` names as one this account moves from."""
        old = await self.find(query)
        if old.identity == account.identity:
            raise UsageError("an account cannot be an alias of itself")
        aliases = await self.aliases(account)
        if old.actor in aliases:
            return old
        if len(aliases) >= MAX_ALIASES:
            raise UsageError(f"an account lists at most {MAX_ALIASES} aliases; remove one first")
        await self._publish_aliases(account, [*aliases, old.actor])
        return old

    async def remove_alias(self, account: Account, actor: str) -> None:
        aliases = await self.aliases(account)
        if actor not in aliases:
            raise NotFound("that account is not among your aliases")
        await self._publish_aliases(account, [alias for alias in aliases if alias != actor])

    # -- moving ------------------------------------------------------------------------

    async def move(self, account: Account, query: str, password: str) -> MoveTarget:
        """Move ``account`` to the account ``query`` names, which must list it as an alias:
        the move is published (a Move to the followers elsewhere) and the followers here
        follow the new account at once."""
        try:
            await self.site.accounts.login(account.username, password)
        except AuthError:
            raise AuthError("the password is wrong") from None
        target = await self.find(query)
        if target.identity == account.identity:
            raise UsageError("you cannot move to this same account")
        me = self.actor_of(account.username)
        if me not in await self.aliases_of(target):
            raise UsageError(f"{target.handle} does not list this account as an alias: add "
                             f"{account.username}@{self.site.host} as an alias on your new account first")
        author = self.site.accounts.author(await self.site.accounts.account(account.id))
        await self.node.publish({"type": "move", "target": target.did}, author=author)
        await self.take_followers(account.identity, target.identity)
        return target

    async def take_followers(self, origin: int, target: int) -> int:
        """Make the hosted people who follow ``origin`` follow ``target`` instead (a follow
        and an unfollow each, which federate); how many moved. Whoever cannot follow the
        target (a block between them) keeps following the origin."""
        async with self.node.db.read() as conn:
            followers = await local_followers(conn, origin)
        following = self.site.social.following
        moved = 0
        for account_id in followers:
            try:
                follower = await self.site.accounts.account(account_id)
                if follower.identity == target:
                    continue
                await following.relate(follower, target, "follow")
                await following.relate(follower, origin, "unfollow")
            except WeftError as exc:
                log.info("follower %s stays with %s: %s", account_id, origin, exc)
                continue
            moved += 1
        return moved
