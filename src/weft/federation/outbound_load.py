"""What the outbound mapping reads from the store: authors, the people entries name, posts
as they now read, and the IRIs of entries (a foreign one's origin, else our object URL).

Read-only, on the caller's connection; :mod:`weft.federation.outbound` puts it together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.encoding import canonical
from weft.core.ids import is_actor_iri, parse_entry_id
from weft.federation.documents_actor import AccountFacts
from weft.federation.outbound_build import Author, Party, PostFacts
from weft.federation.urls import actor_url, local_ref, object_url
from weft.store.accounts import account_by, accounts_by_identity
from weft.store.actor_keys import actor_key
from weft.store.foreign import origins_of_entries
from weft.store.moves import moved_to_did
from weft.store.people import identity_ids_of
from weft.store.schema import (
    VISIBILITY_CODES,
    devices,
    entries,
    identities,
    posts,
    profiles,
    remote_actors,
)
from weft.store.statuses import status_id

__all__ = ["EntryFacts", "account_facts", "entry_facts", "entry_iri", "hosted_author", "made_before", "parties",
           "party_of", "post_facts"]

_VISIBILITY_NAMES = {code: name for name, code in VISIBILITY_CODES.items()}


@dataclass(frozen=True)
class EntryFacts:
    row: int
    entry_id: bytes
    author: int
    ts: int
    header: bytes
    content: dict[str, Any] | None


async def entry_facts(conn: AsyncConnection, *, row: int | None = None,
                      entry_id: bytes | None = None) -> EntryFacts | None:
    query = select(entries.c.id, entries.c.entry_id, entries.c.author, entries.c.ts, entries.c.header,
                   entries.c.content)
    query = query.where(entries.c.id == row) if row is not None else query.where(entries.c.entry_id == entry_id)
    found = (await conn.execute(query)).first()
    if found is None:
        return None
    content = orjson.loads(found.content) if found.content is not None else None
    return EntryFacts(found.id, bytes(found.entry_id), found.author, found.ts, bytes(found.header),
                      content if isinstance(content, dict) else None)


async def hosted_author(conn: AsyncConnection, identity: int) -> Author | None:
    """The active account of ``identity``; None if it is not one (only those federate)."""
    account = await account_by(conn, identity=identity)
    if account is None or account.state != "active":
        return None
    return Author(identity, account.username, account.did)


def _hosted(base: str, username: str) -> Party:
    host = urlsplit(base).netloc.lower()
    return Party(actor_url(base, username), remote=False, handle=f"{username}@{host}", href=f"{base}/@{username}")


async def parties(conn: AsyncConnection, base: str, people: Iterable[str]) -> dict[str, Party]:
    """The people named (did:weft or actor IRIs) that have an actor: the accounts hosted here
    and remote actors. A did:weft not hosted here has none, and is left out."""
    wanted = list(dict.fromkeys(people))
    found: dict[str, Party] = {}
    ours: dict[str, str] = {}      # a name -> the username of an actor URL of ours it is
    for name in wanted:
        ref = local_ref(base, name) if is_actor_iri(name) else None
        if ref is not None:
            if ref.kind == "actor" and ref.username:
                ours[name] = ref.username
        elif is_actor_iri(name):
            found[name] = Party(name, remote=True, href=name)
    rows = await identity_ids_of(conn, {name for name in wanted if name not in ours})
    accounts = await accounts_by_identity(conn, list(rows.values())) if rows else {}
    for name, identity in rows.items():
        account = accounts.get(identity)
        if account is not None and account.state == "active":
            found[name] = _hosted(base, account.username)
    for name, username in ours.items():
        account = await account_by(conn, username=username)
        if account is not None and account.state == "active":
            found[name] = _hosted(base, account.username)
    remote = {name: rows[name] for name in found if found[name].remote and name in rows}
    if remote:
        handles = dict((await conn.execute(select(remote_actors.c.identity, remote_actors.c.handle).where(
            remote_actors.c.identity.in_(sorted(remote.values()))))).all())
        for name, identity in remote.items():
            if handles.get(identity):
                found[name] = Party(name, remote=True, handle=handles[identity], href=name)
    return {name: found[name] for name in wanted if name in found}


async def party_of(conn: AsyncConnection, base: str, identity: int) -> Party | None:
    did = (await conn.execute(select(identities.c.did).where(identities.c.id == identity))).scalar()
    if did is None:
        return None
    return (await parties(conn, base, [did])).get(did)


async def entry_iri(conn: AsyncConnection, base: str, row: int, entry_id: bytes) -> str:
    """A foreign entry's origin, else the entry's object URL here."""
    return (await origins_of_entries(conn, [row])).get(row) or object_url(base, entry_id)


async def post_facts(conn: AsyncConnection, base: str, author: Author, post: EntryFacts) -> PostFacts | None:
    """The post ``post`` (an entry of ``author``) as it now reads; None if deleted or gone."""
    state = (await conn.execute(select(posts.c.visibility, posts.c.text_entry, posts.c.edited_ts, posts.c.deleted)
                                .where(posts.c.entry == post.row))).first()
    if state is None or state.deleted or post.content is None:
        return None
    original = post.content
    current = original
    if state.text_entry != post.row:
        newest = await entry_facts(conn, row=state.text_entry)
        if newest is None or newest.content is None:
            return None
        current = newest.content
    mentions = [name for name in original.get("mentions", ()) if isinstance(name, str)]
    parent_iri: str | None = None
    parent_author: Party | None = None
    reply_to = original.get("reply_to")
    named = await parties(conn, base, mentions)
    if isinstance(reply_to, str):
        parent = await entry_facts(conn, entry_id=parse_entry_id(reply_to))
        if parent is None:
            parent_iri = object_url(base, parse_entry_id(reply_to))
        else:
            parent_iri = await entry_iri(conn, base, parent.row, parent.entry_id)
            parent_author = await party_of(conn, base, parent.author)
    return PostFacts(
        entry_id=post.entry_id, ts=post.ts, text=str(current.get("text", "")),
        visibility=_VISIBILITY_NAMES.get(state.visibility, "public"),
        url=f"{base}/@{author.username}/{status_id(post.ts, post.row)}",
        summary=current.get("summary") if isinstance(current.get("summary"), str) else None,
        sensitive=bool(current.get("sensitive", original.get("sensitive", False))),
        lang=original.get("lang") if isinstance(original.get("lang"), str) else None,
        tags=tuple(tag for tag in original.get("tags", ()) if isinstance(tag, str)),
        attachments=tuple(item for item in original.get("attachments", ()) if isinstance(item, dict)),
        mentioned=tuple(named[name] for name in mentions if name in named),
        in_reply_to=parent_iri, parent_author=parent_author, edited_ts=state.edited_ts)


async def made_before(conn: AsyncConnection, author: int, content: dict[str, Any], before_row: int) -> int | None:
    """The newest entry of ``author`` before ``before_row`` whose content is exactly
    ``content`` (the follow an unfollow takes back): content is stored canonical, so the
    bytes compare. Read by device, which the (device, seq) index serves."""
    found = (await conn.execute(
        select(entries.c.id).where(entries.c.device.in_(select(devices.c.id).where(devices.c.identity == author)),
                                   entries.c.id < before_row, entries.c.content == canonical(content))
        .order_by(entries.c.id.desc()).limit(1))).scalar()
    return None if found is None else int(found)


async def account_facts(conn: AsyncConnection, base: str, identity: int) -> AccountFacts | None:
    """What the actor document of an active hosted account is made of; None if it has no
    actor. The key is the one stored: whoever serves or signs makes it first (ActorKeys)."""
    account = await account_by(conn, identity=identity)
    if account is None or account.state != "active":
        return None
    content = (await conn.execute(select(entries.c.content).join(profiles, profiles.c.entry == entries.c.id)
                                  .where(profiles.c.identity == identity))).scalar()
    profile = orjson.loads(content) if content else {}
    profile = profile if isinstance(profile, dict) else {}
    key = await actor_key(conn, identity)
    aliases = profile.get("aliases")
    target = await moved_to_did(conn, identity)
    moved = (await parties(conn, base, [target])).get(target) if target is not None else None
    return AccountFacts(username=account.username, did=account.did, created_at=account.created_at,
                        profile=profile, public_key_pem=key[1] if key is not None else "",
                        discoverable=account.settings.get("discoverable") is True,
                        also_known_as=tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else (),
                        moved_to=moved.iri if moved is not None else None)
