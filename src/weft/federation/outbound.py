"""The activity a hosted person's entry goes out as, and to whom: what the outbox sends.

    activity = await load_activity(conn, base_url, entry_row)   # None: nothing to send

Only entries of an active hosted account federate. The mapping (Mastodon's shapes):

- post: Create(Note); edit: Update(Note) as the post now reads; delete of a post:
  Delete(Tombstone); delete of a like or boost: Undo(Like/Announce);
- like: Like; boost: Announce; follow/unfollow: Follow/Undo(Follow); block/unblock:
  Block/Undo(Block); follow_accept/follow_reject: Accept/Reject of the follower's Follow;
- profile: Update(Person), the whole actor document;
- move: Move (actor and object the person, target the actor moved to) to all the followers;
- mute/unmute and unknown types: nothing (a mute is private).

An entry aimed at someone without an actor (a did:weft not hosted here) sends nothing; a
post still goes to the author's followers. Everything is read from the database, so the
same entry gives the same activity whenever it is built (:mod:`weft.federation.outbound_build`).

A delete drops the content of the entry it targets in the transaction that stores it
(decision 0002), and with it whom that entry reached: a deleted post's mentions, a like's
post. So the delete's queue row keeps those facts, read before the fold (ids and people,
no text: weft.store.outbox_facts), and the delete goes where its target went: an unlike is
Undo(Like) with the Like whole, to the liked post's author; an unboost is Undo(Announce) to
the Announce's audience; a post's Delete reaches its followers, the people it mentioned and
(unless direct) whom it answered. A delete whose target this node never held whole (or
whose queue row is gone) falls back to what the store still knows.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.entry import decode_entry
from weft.core.ids import parse_entry_id
from weft.errors import WeftError
from weft.federation.documents_actor import account_actor
from weft.federation.outbound_build import (
    Audience,
    Author,
    OutboundActivity,
    announce,
    follow_answer,
    like,
    move,
    post_create,
    post_delete,
    post_update,
    profile_update,
    relation,
    undo_reaction,
)
from weft.federation.outbound_load import (
    EntryFacts,
    account_facts,
    entry_facts,
    entry_iri,
    hosted_author,
    made_before,
    parties,
    party_of,
    post_facts,
)
from weft.store.foreign import origins_of_entries
from weft.store.outbox import queued_target_facts
from weft.store.people import identity_id_of
from weft.store.schema import VISIBILITY_CODES, posts

__all__ = ["Audience", "OutboundActivity", "load_activity"]

# The canonical content of a like and of a boost ({"target":"<52>","type":"like"}) is of one
# length each, which is how a delete tells them apart once the fold has dropped their content.
_REACTION_SIZES = {79: "like", 80: "boost"}
_VISIBILITY_NAMES = {code: name for name, code in VISIBILITY_CODES.items()}


async def load_activity(conn: AsyncConnection, base_url: str, entry_row: int) -> OutboundActivity | None:
    """The activity of the entry at ``entry_row``, or None when it does not federate."""
    entry = await entry_facts(conn, row=entry_row)
    if entry is None or entry.content is None:
        return None
    author = await hosted_author(conn, entry.author)
    if author is None:
        return None
    kind = entry.content.get("type")
    if kind == "post":
        post = await post_facts(conn, base_url, author, entry)
        return None if post is None else post_create(base_url, author, post)
    if kind == "edit":
        return await _edit(conn, base_url, author, entry)
    if kind == "delete":
        return await _delete(conn, base_url, author, entry)
    if kind in ("like", "boost"):
        return await _reaction(conn, base_url, author, entry)
    if kind in ("follow", "unfollow", "block", "unblock"):
        return await _relation(conn, base_url, author, entry, kind)
    if kind in ("follow_accept", "follow_reject"):
        return await _answer(conn, base_url, author, entry, kind == "follow_accept")
    if kind == "profile":
        facts = await account_facts(conn, base_url, author.identity)
        return None if facts is None else profile_update(base_url, author, entry.entry_id, entry.ts,
                                                         account_actor(base_url, facts))
    if kind == "move":
        name = entry.content.get("target")
        target = (await parties(conn, base_url, [name])).get(name) if isinstance(name, str) else None
        return None if target is None else move(base_url, author, entry.entry_id, target)
    return None


async def _target(conn: AsyncConnection, entry: EntryFacts) -> EntryFacts | None:
    target = entry.content.get("target") if entry.content else None
    return await entry_facts(conn, entry_id=parse_entry_id(target)) if isinstance(target, str) else None


async def _edit(conn: AsyncConnection, base: str, author: Author, entry: EntryFacts) -> OutboundActivity | None:
    target = await _target(conn, entry)
    if target is None or target.author != author.identity:
        return None
    post = await post_facts(conn, base, author, target)
    return None if post is None else post_update(base, author, post, entry.entry_id, entry.ts)


async def _delete(conn: AsyncConnection, base: str, author: Author, entry: EntryFacts) -> OutboundActivity | None:
    target = await _target(conn, entry)
    if target is None or target.author != author.identity:
        return None
    # The fold dropped the target's content; its queue row kept what says whom it reached.
    facts = target.content if target.content is not None else await queued_target_facts(conn, entry.row)
    post = (await conn.execute(select(posts.c.visibility, posts.c.reply_to).where(posts.c.entry == target.row))).first()
    if post is not None:
        parent = await entry_facts(conn, entry_id=bytes(post.reply_to)) if post.reply_to is not None else None
        parent_author = await party_of(conn, base, parent.author) if parent is not None else None
        named = facts.get("mentions") if facts is not None else None
        mentioned = await parties(conn, base, [n for n in named if isinstance(n, str)]) if isinstance(named, list) else {}
        return post_delete(base, author, entry.entry_id, target.entry_id, _VISIBILITY_NAMES.get(post.visibility, "public"),
                           parent_author, tuple(mentioned.values()))
    kind = facts.get("type") if facts is not None else _reaction_kind(target.header)
    if kind not in ("like", "boost"):
        return None
    undone = await _reaction(conn, base, author, replace(target, content=facts)) if facts is not None else None
    if kind == "like":
        if undone is None:
            return None   # whom the like went to is not known: nobody to tell
        return undo_reaction(base, author, entry.entry_id, "Like", target.entry_id, undone)
    return undo_reaction(base, author, entry.entry_id, "Announce", target.entry_id, undone)


def _reaction_kind(header: bytes) -> str | None:
    try:
        return _REACTION_SIZES.get(decode_entry(header).content_size)
    except WeftError:
        return None


async def _reaction(conn: AsyncConnection, base: str, author: Author, entry: EntryFacts) -> OutboundActivity | None:
    target = await _target(conn, entry)
    if target is None:
        return None
    post_author = await party_of(conn, base, target.author)
    if post_author is None:
        return None    # a weft post not hosted here: no actor, no object we serve
    iri = await entry_iri(conn, base, target.row, target.entry_id)
    if entry.content is not None and entry.content.get("type") == "like":
        return like(base, author, entry.entry_id, iri, post_author)
    visibility = (await conn.execute(select(posts.c.visibility).where(posts.c.entry == target.row))).scalar()
    if visibility not in (VISIBILITY_CODES["public"], VISIBILITY_CODES["unlisted"]):
        return None
    return announce(base, author, entry.entry_id, entry.ts, iri, post_author)


async def _relation(conn: AsyncConnection, base: str, author: Author, entry: EntryFacts,
                    kind: str) -> OutboundActivity | None:
    name = entry.content.get("target") if entry.content else None
    if not isinstance(name, str):
        return None
    target = (await parties(conn, base, [name])).get(name)
    if target is None:
        return None
    undone = None
    if kind.startswith("un"):
        made = await made_before(conn, author.identity, {"type": kind[2:], "target": name}, entry.row)
        if made is not None:
            undone = (await entry_facts(conn, row=made))
    return relation(base, author, kind, entry.entry_id, target, undone.entry_id if undone else None)


async def _answer(conn: AsyncConnection, base: str, author: Author, entry: EntryFacts,
                  accept: bool) -> OutboundActivity | None:
    name = entry.content.get("target") if entry.content else None
    if not isinstance(name, str):
        return None
    follower = (await parties(conn, base, [name])).get(name)
    follower_row = await identity_id_of(conn, name)
    if follower is None or follower_row is None:
        return None
    follow_id: str | None = None
    made = await made_before(conn, follower_row, {"type": "follow", "target": author.did}, entry.row)
    found = await entry_facts(conn, row=made) if made is not None else None
    if found is not None:
        # A remote follower's Follow is known by its own id (the origin); a hosted one's is ours.
        follow_id = (await origins_of_entries(conn, [found.row])).get(found.row)
        if follow_id is None and not follower.remote:
            follow_id = await entry_iri(conn, base, found.row, found.entry_id)
    return follow_answer(base, author, entry.entry_id, accept, follower, follow_id)
