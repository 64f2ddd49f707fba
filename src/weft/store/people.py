"""People as the client API shows them: an identity with its profile, counts and, if this
node hosts it, its account. No writes here.

Every identity row is a person: the accounts this node hosts, its own operator identity,
the peer-to-peer identities it holds or has only heard of, and Fediverse actors (whose
``did`` is their actor IRI: ``remote`` says who they are there). Counts follow what people
see: followers and follows of a locked identity count once it let them in, and expired or
deleted posts are not counted. A remote person's counts are what this node holds of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.identity import decode_op
from weft.core.ids import is_actor_iri
from weft.errors import IdentityOpRejected
from weft.store import remote_media
from weft.store.moves import moved_to
from weft.store.schema import (
    FOLLOW,
    accounts,
    entries,
    follow_grants,
    identities,
    identity_ops,
    posts,
    profiles,
    relations,
    remote_actors,
)
from weft.store.social import follows_effectively

__all__ = [
    "Person",
    "RemoteInfo",
    "count_local_posts",
    "first_admin_identity",
    "identity_id_of",
    "identity_ids_of",
    "identity_ids_with_prefix",
    "person",
    "persons",
    "remote_identity_by_handle",
    "remote_info",
]


@dataclass(frozen=True)
class RemoteInfo:
    """Who a Fediverse person is on their own server."""

    iri: str                      # the actor IRI (the identity's did)
    handle: str                   # user@host: as WebFinger agreed, else guessed from the actor (``verified``)
    url: str                      # their profile page there: the actor's ``url``, else the IRI
    host: str                     # the actor IRI's host
    verified: bool                # the handle is the one WebFinger agreed to (remote_actors.handle)


@dataclass(frozen=True)
class Person:
    """An identity with what the client API's Account entity is made of."""

    identity: int
    did: str
    profile: dict[str, Any]
    username: str | None          # None unless this node hosts the identity as an account
    account_settings: dict[str, Any]
    created_at: int | None        # the account's sign-up, else the identity's genesis, if held
    followers: int
    following: int
    statuses: int
    last_status_at: int | None
    follow_requests: int
    remote: RemoteInfo | None = None   # set for a Fediverse actor
    # A Fediverse person's avatar and header as the remote media cache keeps them here (their
    # digests, the thumbnail for the avatar), else None: their own URLs are never shown.
    avatar_media: str | None = None
    header_media: str | None = None
    moved: Person | None = None        # whom the identity moved to (its own ``moved`` left unread)


async def persons(conn: AsyncConnection, ids: Sequence[int], *, now_ms: int,
                  with_moves: bool = True) -> dict[int, Person]:
    """The persons with these identity row ids (those that exist), in a few queries for all;
    ``with_moves``: with whom each moved to, if it did."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await conn.execute(
        select(identities.c.id, identities.c.did, entries.c.content, accounts.c.username,
               accounts.c.created_at, accounts.c.settings, remote_actors.c.handle.label("remote_handle"),
               remote_actors.c.document.label("remote_document"))
        .select_from(identities)
        .outerjoin(profiles, profiles.c.identity == identities.c.id)
        .outerjoin(entries, entries.c.id == profiles.c.entry)
        .outerjoin(accounts, accounts.c.identity == identities.c.id)
        .outerjoin(remote_actors, remote_actors.c.identity == identities.c.id)
        .where(identities.c.id.in_(wanted)))).all()
    following_rel = relations.alias("following_rel")
    followers: dict[int, int] = dict((await conn.execute(
        select(relations.c.target, func.count()).where(
            relations.c.target.in_(wanted), relations.c.kind == FOLLOW, relations.c.active.is_(True),
            follows_effectively(relations.c.source, relations.c.target))
        .group_by(relations.c.target))).all())
    following: dict[int, int] = dict((await conn.execute(
        select(following_rel.c.source, func.count()).where(
            following_rel.c.source.in_(wanted), following_rel.c.kind == FOLLOW, following_rel.c.active.is_(True),
            follows_effectively(following_rel.c.source, following_rel.c.target))
        .group_by(following_rel.c.source))).all())
    shown = (await conn.execute(
        select(posts.c.author, func.count(), func.max(posts.c.ts)).where(
            posts.c.author.in_(wanted), posts.c.deleted.is_(False),
            or_(posts.c.expires.is_(None), posts.c.expires > now_ms))
        .group_by(posts.c.author))).all()
    counts = {author: (int(count), last) for author, count, last in shown}
    found: dict[int, Person] = {}
    for row in rows:
        profile = orjson.loads(row.content) if row.content else {}
        profile.pop("type", None)
        statuses, last = counts.get(row.id, (0, None))
        found[row.id] = Person(
            identity=row.id, did=row.did, profile=profile, username=row.username,
            account_settings=orjson.loads(row.settings) if row.settings else {},
            created_at=row.created_at if row.created_at is not None else await _genesis_ts(conn, row.id),
            followers=int(followers.get(row.id, 0)), following=int(following.get(row.id, 0)),
            statuses=statuses, last_status_at=last,
            follow_requests=await _follow_requests(conn, row.id) if profile.get("locked") is True else 0,
            remote=remote_info(row.did, row.remote_handle, row.remote_document) if is_actor_iri(row.did) else None)
    moves = await moved_to(conn, found) if with_moves else {}
    if moves:
        targets = await persons(conn, list(moves.values()), now_ms=now_ms, with_moves=False)
        for source, target in moves.items():
            found[source] = replace(found[source], moved=targets.get(target))
    return await _with_kept_images(conn, found)


async def _with_kept_images(conn: AsyncConnection, found: dict[int, Person]) -> dict[int, Person]:
    """Fediverse people with the avatars and headers the remote media cache keeps of them."""
    named = {(identity, key): person.profile[key] for identity, person in found.items() if person.remote is not None
             for key in ("avatar", "header") if isinstance(person.profile.get(key), str)}
    if not named:
        return found
    kept = await remote_media.held(conn, set(named.values()))
    for (identity, key), url in named.items():
        row = kept.get(url)
        if row is not None and row.state == "ready" and row.blob is not None:
            if key == "avatar":
                found[identity] = replace(found[identity], avatar_media=row.thumb or row.blob)
            else:
                found[identity] = replace(found[identity], header_media=row.blob)
    return found


def remote_info(iri: str, handle: str | None, document: bytes | None) -> RemoteInfo:
    """What ``remote`` holds for the actor ``iri``: from its remote_actors row when there is one
    (``handle`` and the ``document`` as fetched), else from the IRI alone (an actor only named so far)."""
    host = (urlsplit(iri).hostname or "").lower()
    netloc = urlsplit(iri).netloc.lower()
    actor: dict[str, Any] = {}
    if document:
        try:
            parsed = orjson.loads(document)
        except orjson.JSONDecodeError:
            parsed = None
        actor = parsed if isinstance(parsed, dict) else {}
    url = _page_url(actor.get("url")) or iri
    if handle:
        return RemoteInfo(iri=iri, handle=handle.removeprefix("@"), url=url, host=host, verified=True)
    user = actor.get("preferredUsername")
    if not isinstance(user, str) or not _usable_user(user):
        user = unquote(urlsplit(iri).path.rstrip("/").rpartition("/")[2]).removeprefix("@")
    if not _usable_user(user):
        user = "actor"
    return RemoteInfo(iri=iri, handle=f"{user}@{netloc}", url=url, host=host, verified=False)


def _usable_user(user: str) -> bool:
    return 0 < len(user) <= 64 and all(c.isascii() and (c.isalnum() or c in "_.-") for c in user)


def _page_url(value: Any) -> str | None:
    """The first http(s) address of an actor's ``url`` (a string, a Link, or a list of them)."""
    for item in value if isinstance(value, list) else [value]:
        href = item.get("href") if isinstance(item, dict) else item
        if is_actor_iri(href):
            return str(href)
    return None


async def person(conn: AsyncConnection, identity: int, *, now_ms: int) -> Person | None:
    """The person with this identity row id, or None."""
    return (await persons(conn, [identity], now_ms=now_ms)).get(identity)


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one())


async def _genesis_ts(conn: AsyncConnection, identity: int) -> int | None:
    raw = (await conn.execute(select(identity_ops.c.raw).where(
        identity_ops.c.identity == identity, identity_ops.c.position == 0))).scalar()
    if raw is None:
        return None
    try:
        ts = decode_op(raw).body["ts"]
    except IdentityOpRejected:  # stored ops were validated on the way in; never seen
        return None
    return ts if isinstance(ts, int) else None


async def _follow_requests(conn: AsyncConnection, identity: int) -> int:
    """Follows of a locked identity that it has neither let in nor turned away since they came."""
    locked = (await conn.execute(select(profiles.c.locked).where(profiles.c.identity == identity))).scalar()
    if not locked:
        return 0
    answered = select(follow_grants.c.source).where(
        follow_grants.c.source == identity, follow_grants.c.target == relations.c.source,
        or_(follow_grants.c.active.is_(True), follow_grants.c.ts >= relations.c.ts))
    return await _count(conn, select(func.count()).select_from(relations).where(
        relations.c.target == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True),
        ~answered.exists()))


async def remote_identity_by_handle(conn: AsyncConnection, handle: str) -> int | None:
    """The remote actor held here whose handle is ``user@host`` (as WebFinger agreed, or, until
    it has, as guessed from the actor: ``RemoteInfo.handle``), ignoring case; None if none is."""
    user, _, host = handle.removeprefix("@").partition("@")
    if not user or not host or len(handle) > 400:
        return None
    exact = (await conn.execute(select(remote_actors.c.identity).where(remote_actors.c.handle == handle)
                                .order_by(remote_actors.c.identity).limit(1))).scalar()
    if exact is not None:
        return int(exact)
    # Another spelling of the same handle, or an actor not confirmed yet: among its host's
    # actors only (an index), so a lookup never reads every actor held.
    hosts = sorted({host.lower(), host.lower().partition(":")[0]})
    rows = (await conn.execute(
        select(remote_actors.c.identity, remote_actors.c.iri, remote_actors.c.handle, remote_actors.c.document)
        .where(remote_actors.c.host.in_(hosts),
               or_(func.lower(remote_actors.c.handle) == handle.lower(), remote_actors.c.handle.is_(None)))
        .order_by(remote_actors.c.identity).limit(500))).all()
    for row in rows:
        if remote_info(row.iri, row.handle, row.document).handle.lower() == handle.lower():
            return int(row.identity)
    return None


async def identity_ids_with_prefix(conn: AsyncConnection, did_prefix: str, limit: int = 2) -> list[int]:
    """Row ids of the identities whose DID starts with ``did_prefix`` (at most ``limit``)."""
    escaped = did_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.execute(select(identities.c.id).where(identities.c.did.like(escaped + "%", escape="\\"))
                              .order_by(identities.c.id).limit(limit))
    return [row_id for (row_id,) in rows.all()]


async def identity_ids_of(conn: AsyncConnection, dids: set[str]) -> dict[str, int]:
    """DID -> identity row, for the DIDs this node knows."""
    if not dids:
        return {}
    rows = await conn.execute(select(identities.c.did, identities.c.id).where(identities.c.did.in_(sorted(dids))))
    return {did: int(row) for did, row in rows.all()}


async def identity_id_of(conn: AsyncConnection, did: str) -> int | None:
    row = (await conn.execute(select(identities.c.id).where(identities.c.did == did))).scalar()
    return None if row is None else int(row)


async def first_admin_identity(conn: AsyncConnection) -> int | None:
    """The identity of the oldest active admin account: whom the instance names as its contact."""
    row = (await conn.execute(select(accounts.c.identity).where(
        accounts.c.role == "admin", accounts.c.state == "active").order_by(accounts.c.id).limit(1))).scalar()
    return None if row is None else int(row)


async def count_local_posts(conn: AsyncConnection, *, now_ms: int) -> int:
    """Posts shown of the identities this node writes for (its accounts and its own)."""
    return await _count(conn, select(func.count()).select_from(posts)
                        .join(identities, identities.c.id == posts.c.author)
                        .where(identities.c.local.is_(True), posts.c.deleted.is_(False),
                               or_(posts.c.expires.is_(None), posts.c.expires > now_ms)))
