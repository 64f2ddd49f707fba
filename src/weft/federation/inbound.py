"""Activities from the Fediverse into foreign entries: the inbound mapping.

    received = await federation.inbound.receive(activity, via="signature")

Each activity becomes the weft content it means, authored by its actor and offered to
ingest (decision 0007); the origin is the object's id for a post, the activity's id for
the rest, so the same activity twice is stored once:

- Create(Note, Question, Article, Page, Image, Video, Audio, Event) -> ``post``
  (weft.federation.inbound_threads); Update of a post -> ``edit``; Update of the actor ->
  its profile refetched; Delete of an object -> ``delete`` of its entry; Delete of the
  actor itself -> ``delete`` of each post held of it and ``unfollow`` of whom it follows,
  and its stored document dropped.
- Follow of one of our people -> ``follow``, answered at once with a ``follow_accept`` by
  our person unless their account is locked (then the request waits for them); the
  outbox turns that entry into the Accept. Accept/Reject of our person's follow ->
  ``follow_accept``/``follow_reject`` by the remote actor.
- Like -> ``like``; Announce -> ``boost`` (a public object not held yet is fetched first);
  Block -> ``block``, after a ``follow_reject`` (whom it blocks follows no more); Undo of
  a Follow, Like, Announce or Block -> ``unfollow``, the ``delete`` of the like or boost
  entry, ``unblock``.
- Add/Remove (featured posts) are accepted and ignored; a Flag becomes a report for the
  administrators (weft.social.moderation); a Move of the actor to an account that lists it
  as an alias -> ``move``, and our people following the actor follow the target
  (weft.federation.inbound_moves).

Whatever concerns nobody here, or names what is not held, is dropped with a note: an
inbox answers 202 either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from weft.core.foreign import Via
from weft.core.ids import entry_id_text
from weft.errors import EncodingError
from weft.federation.activitystreams import ActivityStreamsError, ASObject, iri_of
from weft.federation.activitystreams_addressing import is_public
from weft.federation.inbound_context import Turn
from weft.federation.inbound_moves import receive_move
from weft.federation.inbound_posts import ms
from weft.federation.inbound_reads import InboundReads
from weft.federation.inbound_threads import (
    create,
    object_of,
    post_entry,
    prefetch_create,
    update_post,
)
from weft.federation.remote_actors import RemoteActorError
from weft.federation.remote_actors_documents import ACTOR_TYPES
from weft.federation.urls import local_ref
from weft.ingest import Outcome
from weft.store import remote_actors as actor_store

if TYPE_CHECKING:
    from weft.federation.service import Federation

__all__ = ["Inbound", "Received"]

log = logging.getLogger("weft.federation.inbound")
MAX_FLAGGED: Final = 40   # objects read of one Flag: the person and some of their posts
_UNDONE: Final = {"follow": "unfollow", "block": "unblock"}


@dataclass
class Received:
    """What became of one activity: the outcomes of the entries made of it, and a note
    saying why, when nothing was made."""

    outcomes: list[Outcome] = field(default_factory=list)
    note: str | None = None


class Inbound:
    """The inbound mapping of one site (``site.federation.inbound``)."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self.reads = InboundReads(federation.site.node.db)   # the mapping's reads, grouped

    async def receive(self, activity: ASObject, *, via: Via) -> Received:
        """Map and ingest ``activity``, whose actor is its sender (checked by the caller:
        a verified signature, or a fetch from the actor's host)."""
        actor_iri = iri_of(activity.actor[0]) if activity.actor else None
        if actor_iri is None:
            return Received(note="an activity without an actor")
        kind = next((name for name in _HANDLERS if activity.has_type(name)), None)
        if kind is None:
            return Received(note=f"{'/'.join(activity.types) or 'an untyped activity'} is not handled")
        try:
            turn = Turn(self.federation, await self.federation.actors.actor(actor_iri), via)
            return await _HANDLERS[kind](self, turn, activity)
        except (RemoteActorError, ActivityStreamsError, EncodingError) as error:
            log.info("%s from %s: %s", kind, actor_iri[:200], error)
            return Received(note=str(error))

    # -- posts -------------------------------------------------------------------------

    async def _create(self, turn: Turn, activity: ASObject) -> Received:
        await prefetch_create(turn, activity)   # one read for what the mapping asks below
        before = await turn.entry_of(iri_of(activity.object[0]) if activity.object else None)
        note = await create(turn, activity)
        return Received(note=note or ("held already" if before is not None else None))

    async def _update(self, turn: Turn, activity: ASObject) -> Received:
        if not activity.object:
            return Received(note="an Update without an object")
        ref = activity.object[0]
        if iri_of(ref) == turn.actor.iri or (isinstance(ref, ASObject) and ref.has_type(*ACTOR_TYPES)):
            if iri_of(ref) != turn.actor.iri:
                return Received(note="an Update of another actor")
            await self.federation.actors.actor(turn.actor.iri, refresh=True)
            return Received(note="the actor's profile was fetched again")
        outcomes, note = await update_post(turn, await object_of(turn, ref))
        return Received(outcomes, note)

    async def _delete(self, turn: Turn, activity: ASObject) -> Received:
        iri = iri_of(activity.object[0]) if activity.object else None
        if iri is None:
            return Received(note="a Delete without an object")
        origin = activity.id or f"{iri}#delete"
        if iri == turn.actor.iri:
            return await self._forget_actor(turn, origin)
        target = await turn.entry_of(iri)
        if target is None:
            return Received(note="a Delete of something not held here")
        return Received(await turn.ingest([turn.offer({"type": "delete", "target": entry_id_text(target)}, origin)]))

    async def _forget_actor(self, turn: Turn, origin: str) -> Received:
        """An actor deleted: its posts deleted, its follows ended, its document dropped."""
        db, outcomes = self.federation.site.node.db, []
        after = 0
        while True:
            async with db.read() as conn:
                page = await actor_store.entries_of_device(conn, f"foreign:{turn.actor.iri}", posts_only=True,
                                                           after_row=after)
            if not page:
                break
            outcomes += await turn.ingest([turn.offer({"type": "delete", "target": entry_id_text(entry_id)},
                                                      f"{origin}#post-{entry_id_text(entry_id)}")
                                           for _, entry_id in page])
            after = page[-1][0]
        async with db.read() as conn:
            followed = await actor_store.follow_targets(conn, turn.actor.identity)
        outcomes += await turn.ingest([turn.offer({"type": "unfollow", "target": did}, f"{origin}#unfollow-{n}")
                                       for n, did in enumerate(followed)])
        await self.federation.actors.forget(turn.actor.iri)
        return Received(outcomes, "the actor was deleted")

    # -- relations ---------------------------------------------------------------------

    async def _follow(self, turn: Turn, activity: ASObject) -> Received:
        person = await turn.person(iri_of(activity.object[0]) if activity.object else None)
        if person is None or activity.id is None:
            return Received(note="a Follow of nobody here")
        outcomes = await turn.ingest([turn.offer({"type": "follow", "target": person.did}, activity.id)])
        if outcomes[0].status == "stored":
            async with self.federation.site.node.db.read() as conn:
                locked = await actor_store.is_locked(conn, person.identity)
            if not locked:
                accounts = self.federation.site.accounts
                author = accounts.author(await accounts.account(person.account))
                await self.federation.site.node.publish({"type": "follow_accept", "target": turn.actor.iri},
                                                        author=author)
        return Received(outcomes)

    async def _answer(self, turn: Turn, activity: ASObject) -> Received:
        """Accept or Reject of a follow by one of our people."""
        accept = activity.has_type("Accept")
        follow = activity.object[0] if activity.object else None
        person = None
        if isinstance(follow, ASObject) and follow.has_type("Follow") and follow.actor:
            person = await turn.person(iri_of(follow.actor[0]))
        if person is None and follow is not None:
            ref = local_ref(turn.base, iri_of(follow) or "")
            entry = await turn.entry_of(iri_of(follow)) if ref is not None and ref.kind == "object" else None
            if entry is not None:
                author, content = await turn.content_of(entry)
                if content is not None and content.get("type") == "follow" and content.get("target") == turn.actor.iri:
                    person = await turn.person_by_did(author or "")
        if person is None or activity.id is None:
            return Received(note="an answer to no follow of ours")
        kind = "follow_accept" if accept else "follow_reject"
        return Received(await turn.ingest([turn.offer({"type": kind, "target": person.did}, activity.id)]))

    async def _block(self, turn: Turn, activity: ASObject) -> Received:
        """Block -> ``block``, after a ``follow_reject`` of the blocked person: as on Mastodon,
        whom an actor blocks follows them no more (the follow entry is the person's own, so
        the blocker's "no" is what ends it; a Mastodon server sends no Reject of its own)."""
        person = await turn.person(iri_of(activity.object[0]) if activity.object else None)
        if person is None or activity.id is None:
            return Received(note="a Block of nobody here")
        turned_away = turn.offer({"type": "follow_reject", "target": person.did}, f"{activity.id}#follow_reject")
        return Received(await turn.ingest([turned_away, turn.offer({"type": "block", "target": person.did},
                                                                   activity.id)]))

    async def _move(self, turn: Turn, activity: ASObject) -> Received:
        outcomes, note = await receive_move(self.federation, turn, activity)
        return Received(outcomes, note)

    async def _undo(self, turn: Turn, activity: ASObject) -> Received:
        inner = activity.object[0] if activity.object else None
        inner_iri = iri_of(inner)
        if inner is None or inner_iri is None or activity.id is None:
            return Received(note="an Undo of nothing")
        held = await turn.entry_of(inner_iri)
        content = None
        if held is not None and local_ref(turn.base, inner_iri) is None:
            author, content = await turn.content_of(held)
            if author != turn.actor.iri:
                return Received(note="an Undo of another actor's activity")
        undo: dict[str, str] | None = None
        if content is not None and content.get("type") in _UNDONE:
            undo = {"type": _UNDONE[content["type"]], "target": content["target"]}
        elif content is not None and content.get("type") in ("like", "boost") and held is not None:
            undo = {"type": "delete", "target": entry_id_text(held)}
        elif isinstance(inner, ASObject) and inner.has_type("Follow", "Block") and inner.object:
            person = await turn.person(iri_of(inner.object[0]))   # an activity we never held
            if person is not None:
                undo = {"type": "unfollow" if inner.has_type("Follow") else "unblock", "target": person.did}
        if undo is None:
            return Received(note="an Undo of nothing held here")
        return Received(await turn.ingest([turn.offer(undo, activity.id)]))

    # -- reactions ---------------------------------------------------------------------

    async def _react(self, turn: Turn, activity: ASObject) -> Received:
        """Like -> ``like``, Announce -> ``boost`` of the entry held for the object."""
        boost = activity.has_type("Announce")
        ref = activity.object[0] if activity.object else None
        iri = iri_of(ref)
        if iri is None or activity.id is None:
            return Received(note="a reaction to nothing")
        target = await turn.entry_of(iri)
        if target is None and boost and local_ref(turn.base, iri) is None:
            target = await self._boosted(turn, iri)
        if target is None:
            return Received(note="a reaction to a post not held here")
        content = {"type": "boost" if boost else "like", "target": entry_id_text(target)}
        return Received(await turn.ingest([turn.offer(content, activity.id, ms(activity.published, turn.now))]))

    async def _boosted(self, turn: Turn, iri: str) -> bytes | None:
        """A boosted post not held yet: fetched from its origin when its booster is followed
        here (else nobody would see the boost) and it is public."""
        async with self.federation.site.node.db.read() as conn:
            if turn.via == "signature" and not await actor_store.followed_by_local(conn, turn.actor.identity):
                return None
        obj = await self.federation.actors.fetch_object(iri)
        author = iri_of(obj.attributed_to[0]) if obj.attributed_to else None
        if author is None or not any(is_public(iri_of(ref) or "") for ref in obj.to + obj.cc):
            return None
        actor = await self.federation.actors.actor(author)
        return await post_entry(turn.as_author(actor, "fetch"), obj)

    # -- accepted, not acted on ------------------------------------------------------

    async def _ignored(self, turn: Turn, activity: ASObject) -> Received:
        return Received(note=f"{'/'.join(activity.types)} is accepted and ignored")

    # -- reports ---------------------------------------------------------------------

    async def _flag(self, turn: Turn, activity: ASObject) -> Received:
        """A report from another server's moderators about one of ours (Mastodon sends it
        from its instance actor, naming the person and some of their posts): recorded for
        our administrators, once per Flag id (decision 0008)."""
        target: int | None = None
        entries: list[str] = []
        for ref in activity.object[:MAX_FLAGGED]:
            iri = iri_of(ref)
            person = await turn.person(iri)
            if person is not None:
                target = target if target is not None else person.identity
                continue
            entry = await turn.entry_of(iri)
            if entry is not None:
                entries.append(entry_id_text(entry))
        if target is None:
            return Received(note="a Flag about nobody here")
        origin = activity.id or f"{turn.actor.iri}#flag-{turn.now}"
        made = await self.federation.site.social.moderation.received_flag(
            origin=origin, origin_host=turn.actor.host, target=target, entries=entries,
            comment=(activity.content or "")[:1000])
        return Received(note=None if made is not None else "held already, or reports from there are rejected")


_HANDLERS: Final = {
    "Create": Inbound._create, "Update": Inbound._update, "Delete": Inbound._delete,
    "Follow": Inbound._follow, "Accept": Inbound._answer, "Reject": Inbound._answer,
    "Block": Inbound._block, "Undo": Inbound._undo, "Like": Inbound._react, "Announce": Inbound._react,
    "Add": Inbound._ignored, "Remove": Inbound._ignored, "Flag": Inbound._flag, "Move": Inbound._move,
}
