"""The social service's view of the Fediverse's people (weft.social.remote.RemoteDirectory),
over federation's remote actors.

The social service cannot import federation (the client API imports it, and the protocol
faces stay apart), so the node assembly sets an :class:`ActorDirectory` on
``site.directory`` beside ``site.federation``; the social service only calls ``resolve``.
A handle goes through WebFinger, a URL is fetched as an actor (and a profile page's URL,
``https://host/@user``, whose document is an actor of another id, goes by its handle). Whatever fails (no such person, a
server that does not answer, a document that is no actor) is "not found": the person
searching gets no result, never an error about someone else's server.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote, urlsplit

from weft.core.ids import is_actor_iri
from weft.errors import WeftError
from weft.federation.remote_actors_documents import also_known_as
from weft.store.remote_actors import actors_by_identity

if TYPE_CHECKING:
    from weft.federation.remote_actors import RemoteActor
    from weft.site import Site

__all__ = ["ActorDirectory"]

log = logging.getLogger("weft.federation.directory")
# A profile page as Mastodon, Pleroma and Akkoma write it: https://host/@user
_PROFILE_PATH: Final = re.compile(r"/@([A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})/?")


class ActorDirectory:
    """``resolve`` through the site's remote actors (``site.federation.actors``)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    async def resolve(self, query: str) -> int | None:
        """The identity row of the actor a handle (``user@host``, ``@`` in front or not) or an
        actor's or profile's URL names, fetched and stored if needed; None if none is found."""
        federation = self.site.federation
        if federation is None:
            return None
        query = query.strip()
        try:
            found: RemoteActor
            if is_actor_iri(query):
                try:
                    found = await federation.actors.actor(query)
                except WeftError:
                    # A profile page's URL answers with the actor, whose id is another URL:
                    # the handle the page names finds it through WebFinger.
                    page = urlsplit(query)
                    named = _PROFILE_PATH.fullmatch(unquote(page.path))
                    if named is None:
                        raise
                    found = await federation.actors.resolve_handle(f"{named.group(1)}@{page.netloc}")
            else:
                found = await federation.actors.resolve_handle(query.removeprefix("@"))
        except WeftError as exc:
            log.info("no actor found for %r: %s", query[:200], exc)
            return None
        return found.identity

    async def aliases(self, identity: int) -> tuple[str, ...] | None:
        """The ``alsoKnownAs`` of the actor whose identity row is ``identity``, fetched again
        from its server now (an alias added a minute ago counts); None when it cannot be."""
        federation = self.site.federation
        if federation is None:
            return None
        async with self.site.node.db.read() as conn:
            held = (await actors_by_identity(conn, [identity])).get(identity)
        if held is None:
            return None
        try:
            fresh = await federation.actors.actor(held.iri, refresh=True)
        except WeftError as exc:
            log.info("cannot fetch %s again: %s", held.iri[:200], exc)
            return None
        return also_known_as(fresh.document)
