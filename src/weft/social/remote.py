"""Fediverse people by their handles and addresses: found among those held here, and else,
where the node federates, looked up on their servers.

The looking up is federation's (fetching actors, WebFinger); the social service must not
import weft.federation (the client API imports weft.social, and the protocol faces stay
apart), so it asks through :class:`RemoteDirectory`, which the node assembly sets on
``site.directory`` (weft.federation.directory). Without one (a node that does not
federate, or a test site), only the people already held are found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

from weft.core.ids import is_actor_iri
from weft.social.names import identity_named, is_remote_handle
from weft.store import people

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["MAX_RESOLVED_MENTIONS", "RemoteDirectory", "find_remote", "remote_mentions", "remote_query"]

# Mentions of people not held yet are looked up at most this many per post: a post naming
# fifty strangers must not cost fifty fetches before it is published.
MAX_RESOLVED_MENTIONS: Final = 5


class RemoteDirectory(Protocol):
    """Finds Fediverse people on their servers (weft.federation.directory.ActorDirectory)."""

    async def resolve(self, query: str) -> int | None:
        """The identity row of the actor ``query`` names (a handle ``user@host``, or an actor's
        or profile page's URL), fetched and stored if needed; None if none is found."""
        ...

    async def aliases(self, identity: int) -> tuple[str, ...] | None:
        """The actor IRIs the remote person ``identity`` says they also are (their
        ``alsoKnownAs``), fetched fresh from their server; None when it cannot be."""
        ...


def remote_query(query: str, local_host: str) -> str | None:
    """``query`` as a remote person's name (``user@host`` without the ``@`` in front, or an
    http(s) URL), or None when it names nobody elsewhere (words, or someone of ``local_host``)."""
    query = query.strip()
    if is_actor_iri(query):
        return None if urlsplit(query).netloc.lower() == local_host.lower() else query
    bare = query.removeprefix("@")
    if is_remote_handle(bare) and bare.partition("@")[2].lower() != local_host.lower():
        return bare
    return None


async def find_remote(site: Site, query: str, *, resolve: bool) -> int | None:
    """The identity row of the remote person ``query`` names: held here, or, with ``resolve``
    and a directory, looked up there. None when it names nobody elsewhere or nobody is found."""
    name = remote_query(query, site.host)
    if name is None:
        return None
    async with site.node.db.read() as conn:
        held = await identity_named(conn, name)
    if held is not None or not resolve or site.directory is None:
        return held
    return await site.directory.resolve(name)


async def remote_mentions(site: Site, handles: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """``user@host`` (lowercased) -> actor IRI, for the mentions of other servers' people among
    ``handles`` (``weft.core.text.mentions``) that are held here or, at most
    MAX_RESOLVED_MENTIONS of them, found through the site's directory."""
    wanted = [f"{user}@{host}" for user, host in handles
              if host is not None and host.lower() != site.host.lower() and is_remote_handle(f"{user}@{host}")]
    found: dict[str, int] = {}
    missing: list[str] = []
    async with site.node.db.read() as conn:
        for handle in dict.fromkeys(wanted):
            identity = await identity_named(conn, handle)
            if identity is None:
                missing.append(handle)
            else:
                found[handle.lower()] = identity
    if site.directory is not None:
        for handle in missing[:MAX_RESOLVED_MENTIONS]:
            identity = await site.directory.resolve(handle)
            if identity is not None:
                found[handle.lower()] = identity
    async with site.node.db.read() as conn:
        persons = await people.persons(conn, list(found.values()), now_ms=site.node.clock())
    return {handle: persons[identity].did for handle, identity in found.items()
            if identity in persons and persons[identity].remote is not None}
