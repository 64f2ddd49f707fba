"""An inbound Move: a Fediverse account moving elsewhere, and our people who follow it
following it there (Mastodon's account migration; decision 0007, "Migration").

A Move counts only when the actor moves itself (``object`` is the actor, which signed the
delivery) to a ``target`` whose aliases name it: a target hosted here lists the actor in its
profile's ``aliases``; any other is fetched again now and must list it in ``alsoKnownAs``.
Anything else is refused with a note and stores nothing. A Move that counts becomes a
foreign ``move`` entry by the actor (origin: the Move's id, so a second delivery is a
duplicate and moves nobody twice); then every hosted person following the actor follows
the target and unfollows the actor, through the social service, so that the Follow and the
Undo(Follow) go out as any other would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weft.federation.activitystreams import ASObject, iri_of
from weft.federation.remote_actors_documents import also_known_as
from weft.ingest import Outcome

if TYPE_CHECKING:
    from weft.federation.inbound_context import Turn
    from weft.federation.service import Federation

__all__ = ["receive_move"]


async def _target(federation: Federation, turn: Turn, iri: str) -> tuple[str, int, tuple[str, ...]]:
    """(the name content gives the target, its identity row, the aliases it lists now)."""
    local = await turn.person(iri)
    if local is not None:
        aliases = (await federation.site.node.profile(local.did))["profile"].get("aliases")
        listed = tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else ()
        return local.did, local.identity, listed
    actor = await federation.actors.actor(iri, refresh=True)   # RemoteActorError: the caller's note
    return actor.iri, actor.identity, also_known_as(actor.document)


async def receive_move(federation: Federation, turn: Turn,
                       activity: ASObject) -> tuple[list[Outcome], str | None]:
    """Record the move of ``turn.actor`` and move its followers here (see the module
    docstring): the outcomes, and a note saying why when nothing was made."""
    origin = turn.actor.iri
    moved = iri_of(activity.object[0]) if activity.object else None
    target = iri_of(activity.target[0]) if activity.target else None
    if moved != origin:
        return [], "a Move of someone other than its actor"
    if target is None or target == origin or activity.id is None:
        return [], "a Move to nobody"
    name, identity, aliases = await _target(federation, turn, target)
    if origin not in aliases:
        return [], f"the Move's target {target[:200]} does not list {origin[:200]} as an alias"
    outcomes = await turn.ingest([turn.offer({"type": "move", "target": name}, activity.id)])
    if outcomes[0].status != "stored":
        return outcomes, "held already"
    count = await federation.site.social.moving.take_followers(turn.actor.identity, identity)
    return outcomes, f"{count} followers here moved along"
