"""Posts from the Fediverse: Create and Update of objects, and the threads they belong to.

A post is ingested once per object id (its origin). A reply names its parent by IRI: our
own object URL, or a remote object we hold, or else one we fetch and ingest first (its
own parent in turn), at most MAX_ANCESTORS fetches per received activity. ``root`` is
the parent's root, or the parent itself, as local replies set it.

An embedded object is believed as delivered only when its author is the activity's
signed actor and it lives on the actor's host; otherwise it is fetched from its id.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from weft.core.ids import entry_id_text, is_actor_iri
from weft.federation.activitystreams import ActivityStreamsError, ASObject, Ref, iri_of, iris_of
from weft.federation.inbound_context import Turn
from weft.federation.inbound_posts import edit_content, ms, post_content
from weft.federation.remote_actors import RemoteActorError
from weft.federation.remote_actors_documents import same_host
from weft.federation.remote_objects import DISPLAYED_TYPES, RemotePost, remote_post
from weft.federation.remote_objects_parts import mentions_of
from weft.store import remote_actors as actor_store

if TYPE_CHECKING:
    from weft.ingest import Outcome

__all__ = ["create", "object_of", "post_entry", "prefetch_create", "update_post"]

log = logging.getLogger("weft.federation.inbound")


async def object_of(turn: Turn, ref: Ref) -> ASObject:
    """The object ``ref`` names: as embedded when the turn's actor may speak for it, else fetched."""
    if isinstance(ref, ASObject) and ref.id is not None and turn.via == "signature" \
            and same_host(ref.id, turn.actor.iri) and turn.actor.iri in (iris_of(ref.attributed_to) or (turn.actor.iri,)):
        return ref
    if isinstance(ref, ASObject) and turn.via == "fetch" and ref.id is not None:
        return ref   # the whole activity came from its origin: what it embeds came with it
    iri = iri_of(ref)
    if iri is None:
        raise ActivityStreamsError("object: no id to fetch it by")
    return await turn.federation.actors.fetch_object(iri)


async def _mentions(turn: Turn, post: RemotePost, obj: ASObject) -> tuple[list[str], bool]:
    """(whom the post names, as content does, and whether one of them is ours). People of
    this node count whether mentioned or only addressed (a direct message's to)."""
    named, ours = [], False
    for iri in [mention.iri for mention in post.mentions] + list(iris_of(obj.to) + iris_of(obj.cc)):
        person = await turn.person(iri)
        if person is not None:
            named.append(person.did)
            ours = True
        elif iri in (m.iri for m in post.mentions) and is_actor_iri(iri):
            named.append(iri)
    return named, ours


async def _thread(turn: Turn, parent_iri: str | None) -> tuple[bytes | None, bytes | None]:
    """(parent entry id, root entry id) for a reply to ``parent_iri``, fetching the parent
    when it is neither ours nor held and the turn may still fetch."""
    if parent_iri is None:
        return None, None
    parent = await turn.entry_of(parent_iri)
    if parent is None and turn.ancestors_left > 0 and not parent_iri.startswith(turn.base + "/"):
        turn.ancestors_left -= 1
        try:
            obj = await turn.federation.actors.fetch_object(parent_iri)
            author = iri_of(obj.attributed_to[0]) if obj.attributed_to else None
            if author is not None:
                actor = await turn.federation.actors.actor(author)
                parent = await post_entry(turn.as_author(actor, "fetch"), obj, budget_from=turn)
        except (RemoteActorError, ActivityStreamsError) as error:
            log.info("the parent %s of a reply could not be had: %s", parent_iri[:200], error)
    if parent is None:
        return None, None
    async with turn.federation.site.node.db.read() as conn:
        roots = await actor_store.post_roots(conn, [parent])
    if parent not in roots:
        return None, None
    return parent, roots[parent] or parent


async def post_entry(turn: Turn, obj: ASObject, *, budget_from: Turn | None = None,
                     relevant_only: bool = False) -> bytes | None:
    """Ingest ``obj`` as a post by the turn's actor (unless held already); the id of the
    entry held for it, or None when it is not a post of this actor (or, ``relevant_only``,
    concerns nobody here)."""
    if not obj.has_type(*DISPLAYED_TYPES) or obj.has_type("Tombstone") or obj.id is None:
        return None
    held = await turn.entry_of(obj.id)
    if held is not None:
        return held
    post = remote_post(obj, followers=turn.actor.followers, actor=turn.actor.iri)
    if post.author != turn.actor.iri or not same_host(obj.id, turn.actor.iri):
        log.info("%s is not %s's to post", obj.id[:200], turn.actor.iri[:200])
        return None
    reply_to, root = await _thread(turn, post.in_reply_to)
    if budget_from is not None:
        budget_from.ancestors_left = turn.ancestors_left
    mentions, names_ours = await _mentions(turn, post, obj)
    if relevant_only and not names_ours and reply_to is None and not await turn.followed_here():
        log.info("%s concerns nobody here; not stored", obj.id[:200])
        return None
    content = post_content(post, mentions=mentions, reply_to=entry_id_text(reply_to) if reply_to else None,
                           root=entry_id_text(root) if root else None)
    [outcome] = await turn.ingest([turn.offer(content, obj.id, ms(post.published, turn.now))])
    if outcome.status == "stored" and outcome.entry_id is not None:
        return outcome.entry_id
    return await turn.entry_of(obj.id)   # held already (another delivery of it was first), or refused


async def prefetch_create(turn: Turn, activity: ASObject) -> None:
    """Read at once what mapping a Create will ask: whether its post and the post it answers
    are held, the people of ours it names, whether anyone here follows its actor."""
    ref = activity.object[0] if activity.object else None
    if not isinstance(ref, ASObject):
        await turn.prefetch(entries=[iri_of(ref)])
        return
    named = [mention.iri for mention in mentions_of(ref.tag)] + list(iris_of(ref.to) + iris_of(ref.cc))
    await turn.prefetch(entries=[ref.id, iri_of(ref.in_reply_to[0]) if ref.in_reply_to else None], people=named,
                        followed=turn.via == "signature")


async def create(turn: Turn, activity: ASObject) -> str | None:
    """A Create: its object as a post. Returns a note when nothing was stored."""
    if not activity.object:
        return "a Create without an object"
    obj = await object_of(turn, activity.object[0])
    if not obj.has_type(*DISPLAYED_TYPES) or obj.has_type("Tombstone"):
        return f"a Create of {'/'.join(obj.types)}, which is not a post"
    entry = await post_entry(turn, obj, relevant_only=turn.via == "signature")
    return None if entry is not None else "the object was not stored (not the actor's, or for nobody here)"


async def update_post(turn: Turn, obj: ASObject) -> tuple[list[Outcome], str | None]:
    """An Update of a post: an ``edit`` of the entry held for its id, filed under the
    object id with ``#updated-`` and its ``updated`` time (or a hash of it when it has none)."""
    if obj.id is None:
        return [], "an Update of an object without an id"
    target = await turn.entry_of(obj.id)
    if target is None:
        return [], "an Update of a post not held here"
    post = remote_post(obj, followers=turn.actor.followers, actor=turn.actor.iri)
    if post.author != turn.actor.iri:
        return [], "an Update of another actor's post"
    content = edit_content(post, entry_id_text(target))
    stamp = str(int(post.updated.timestamp() * 1000)) if post.updated else \
        hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()[:24]
    ts = ms(post.updated, turn.now)
    return await turn.ingest([turn.offer(content, f"{obj.id}#updated-{stamp}", ts)]), None
