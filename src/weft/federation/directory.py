"""The social service's view of the Fediverse's people (weft.social.remote.RemoteDirectory),
over federation's remote actors.

The social service cannot import federation (the client API imports it, and the protocol
faces stay apart), so the node assembly sets an :class:`ActorDirectory` on
``site.directory`` beside ``site.federation``; the social service only calls ``resolve``.
A handle goes through WebFinger, an URL is fetched as an actor (a profile page's URL is
answered with the actor by Mastodon and most others). Whatever fails (no such person, a
server that does not answer, a document that is no actor) is "not found": the person
searching gets no result, never an error about someone else's server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from weft.core.ids import is_actor_iri
from weft.errors import WeftError

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["ActorDirectory"]

log = logging.getLogger("weft.federation.directory")


class _Actors(Protocol):
    """What the directory needs of weft.federation.remote_actors.RemoteActors."""

    async def actor(self, iri: str) -> Any: ...

    async def resolve_handle(self, handle: str) -> Any: ...


class ActorDirectory:
    """``resolve`` through the site's remote actors (``site.federation.actors``)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def _actors(self) -> _Actors | None:
        # Read when asked, not when made: the federation service sets up its remote actors itself.
        actors: _Actors | None = getattr(self.site.federation, "actors", None)
        return actors

    async def resolve(self, query: str) -> int | None:
        """The identity row of the actor a handle (``user@host``, ``@`` in front or not) or an
        actor's or profile's URL names, fetched and stored if needed; None if none is found."""
        actors = self._actors()
        if actors is None:
            return None
        query = query.strip()
        try:
            if is_actor_iri(query):
                found = await actors.actor(query)
            else:
                found = await actors.resolve_handle(query.removeprefix("@"))
        except WeftError as exc:
            log.info("no actor found for %r: %s", query[:200], exc)
            return None
        identity = getattr(found, "identity", None)
        return identity if isinstance(identity, int) else None
