"""Remote ActivityPub actors as last fetched (the ``remote_actors`` table of migration 0007),
and the few reads the inbox needs about the entries they made. SQL only; the rules (when
to refetch, what makes a document trustworthy) are in weft.federation.remote_actors.

An actor's identity row has its IRI as ``did`` (weft.store.identities.ensure_identities);
the row here is keyed by that identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.identities import ensure_identities
from weft.store.schema import (
    FOLLOW,
    devices,
    entries,
    identities,
    posts,
    profiles,
    relations,
    remote_actors,
)
from weft.store.sql import select_in, upsert

__all__ = [
    "RemoteActorRow",
    "actor_by_handle",
    "actor_by_iri",
    "actor_by_key_id",
    "actors_by_identity",
    "entries_of_device",
    "follow_targets",
    "followed_by_local",
    "followed_by_locals",
    "forget_actor",
    "is_locked",
    "post_roots",
    "save_actor",
]


@dataclass(frozen=True)
class RemoteActorRow:
    """One remote actor as stored; ``document`` is the JSON as it was served."""

    identity: int
    iri: str
    host: str
    kind: str
    inbox: str
    shared_inbox: str | None
    followers: str | None
    key_id: str | None
    public_key_pem: str | None
    handle: str | None
    moved_to: str | None
    document: bytes
    fetched_at: int


_COLUMNS = ("host", "kind", "inbox", "shared_inbox", "followers", "key_id", "public_key_pem", "handle",
            "moved_to", "document", "fetched_at")


def _row(row: object) -> RemoteActorRow:
    values = row._mapping  # type: ignore[attr-defined]
    return RemoteActorRow(**{key: values[key] for key in ("identity", "iri", *_COLUMNS)}
                          | {"document": bytes(values["document"])})


async def actor_by_iri(conn: AsyncConnection, iri: str) -> RemoteActorRow | None:
    found = (await conn.execute(select(remote_actors).where(remote_actors.c.iri == iri))).first()
    return None if found is None else _row(found)


async def actor_by_key_id(conn: AsyncConnection, key_id: str) -> RemoteActorRow | None:
    """The actor whose key is ``key_id`` (the newest fetched, should two claim it)."""
    found = (await conn.execute(select(remote_actors).where(remote_actors.c.key_id == key_id)
                                .order_by(remote_actors.c.fetched_at.desc()).limit(1))).first()
    return None if found is None else _row(found)


async def actor_by_handle(conn: AsyncConnection, handle: str) -> RemoteActorRow | None:
    """By ``user@host``, compared without case as WebFinger compares them."""
    found = (await conn.execute(select(remote_actors).where(func.lower(remote_actors.c.handle) == handle.lower())
                                .order_by(remote_actors.c.fetched_at.desc()).limit(1))).first()
    return None if found is None else _row(found)


async def actors_by_identity(conn: AsyncConnection, identities: Iterable[int]) -> dict[int, RemoteActorRow]:
    wanted = sorted(set(identities))
    if not wanted:
        return {}
    rows = await conn.execute(select(remote_actors).where(remote_actors.c.identity.in_(wanted)))
    return {row.identity: _row(row) for row in rows.all()}


async def save_actor(conn: AsyncConnection, iri: str, values: Mapping[str, object]) -> RemoteActorRow:
    """Insert or replace the actor at ``iri`` (its identity row made if needed); ``values``
    holds every column but identity and iri."""
    identity = (await ensure_identities(conn, [iri]))[iri]
    row = {"identity": identity, "iri": iri, **{key: values[key] for key in _COLUMNS}}
    await conn.execute(upsert(conn, remote_actors, ["identity"], list(_COLUMNS)), [row])
    saved = await actor_by_iri(conn, iri)
    if saved is None:   # pragma: no cover - written just above in this transaction
        raise RuntimeError("remote actor vanished in its own transaction")
    return saved


async def forget_actor(conn: AsyncConnection, iri: str) -> None:
    """Drop what is stored of an actor's document (its identity row and entries stay)."""
    await conn.execute(delete(remote_actors).where(remote_actors.c.iri == iri))


async def post_roots(conn: AsyncConnection, entry_ids: Iterable[bytes]) -> dict[bytes, bytes | None]:
    """entry id -> the root of its thread (None when it is the root itself), for the posts held."""
    rows = await select_in(conn, "SELECT e.entry_id, p.root FROM posts p JOIN entries e ON e.id = p.entry "
                                 "WHERE e.entry_id {in}", sorted(set(entry_ids)))
    return {bytes(entry_id): None if root is None else bytes(root) for entry_id, root in rows}


async def entries_of_device(conn: AsyncConnection, device_key: str, *, posts_only: bool,
                            after_row: int = 0, limit: int = 500) -> list[tuple[int, bytes]]:
    """(row, entry id) of what the device ``device_key`` (``foreign:<IRI>`` for a remote
    actor) holds past ``after_row``, in row order; with ``posts_only``, its live posts."""
    query = (select(entries.c.id, entries.c.entry_id).join(devices, devices.c.id == entries.c.device)
             .where(devices.c.key == device_key, entries.c.id > after_row)
             .order_by(entries.c.id).limit(limit))
    if posts_only:
        query = query.join(posts, posts.c.entry == entries.c.id).where(posts.c.deleted.is_(False))
    return [(row, bytes(entry_id)) for row, entry_id in (await conn.execute(query)).all()]


async def followed_by_local(conn: AsyncConnection, identity: int) -> bool:
    """Whether any of this node's own people follows ``identity`` (asked or let in)."""
    found = await conn.execute(
        select(relations.c.source).join(identities, identities.c.id == relations.c.source)
        .where(relations.c.target == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True),
               identities.c.local.is_(True)).limit(1))
    return found.first() is not None


async def followed_by_locals(conn: AsyncConnection, actors: Iterable[int]) -> set[int]:
    """Those of ``actors`` (identity rows) whom any of this node's own people follows."""
    wanted = sorted(set(actors))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(relations.c.target).distinct().join(identities, identities.c.id == relations.c.source)
        .where(relations.c.target.in_(wanted), relations.c.kind == FOLLOW, relations.c.active.is_(True),
               identities.c.local.is_(True)))
    return {target for (target,) in rows.all()}


async def follow_targets(conn: AsyncConnection, identity: int) -> list[str]:
    """The DIDs (or IRIs) ``identity`` follows now."""
    rows = await conn.execute(
        select(identities.c.did).join(relations, relations.c.target == identities.c.id)
        .where(relations.c.source == identity, relations.c.kind == FOLLOW, relations.c.active.is_(True))
        .order_by(identities.c.id))
    return [did for (did,) in rows.all()]


async def is_locked(conn: AsyncConnection, identity: int) -> bool:
    """Whether the identity's newest profile asks to approve followers."""
    locked = (await conn.execute(select(profiles.c.locked).where(profiles.c.identity == identity))).scalar()
    return bool(locked)
