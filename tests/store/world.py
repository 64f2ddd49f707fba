"""A small world built by hand for storage and ingest tests: authors, devices, signed entries.

Everything here is pure (keys, identity operations, signed entries) except the few
``async`` helpers at the end, which go through ``Ingest`` like any peer would::

    alice = Author(clock, "phone", "laptop")
    post = alice.phone.post("hello")
    await admit(ingest, alice, post)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from weft.core.content import encode_content
from weft.core.encoding import b64url, canonical, sha256
from weft.core.entry import Entry, sign_entry
from weft.core.identity import IdentityOp, sign_op
from weft.core.ids import did_from_genesis, entry_id_text
from weft.core.keys import SigningKey
from weft.ingest import Ingest, Offer, Outcome
from weft.store import identities as identity_store
from weft.store.database import Database
from weft.store.schema import identities

Clock = Callable[[], int]


def new_key() -> SigningKey:
    return SigningKey(os.urandom(32))


@dataclass(frozen=True)
class Signed:
    """One signed entry and its content bytes, as a peer would offer them."""

    entry: Entry
    content: bytes

    @property
    def id(self) -> bytes:
        return self.entry.id

    @property
    def ref(self) -> str:
        """The entry id as content refers to it (``target``, ``reply_to``)."""
        return entry_id_text(self.entry.id)

    @property
    def offer(self) -> Offer:
        return Offer(self.entry.raw, self.content)

    @property
    def header_only(self) -> Offer:
        return Offer(self.entry.raw, None)


class Device:
    """One device key of an author and the head of its log, as the device itself knows it."""

    def __init__(self, author: Author, name: str, key: SigningKey | None = None) -> None:
        self.author = author
        self.name = name
        self.key = key or new_key()
        self.seq = 0
        self.head: bytes | None = None

    @property
    def did(self) -> str:
        return self.key.did

    def write(self, content: dict[str, Any], *, ts: int | None = None,
              expires: int | None = None) -> Signed:
        """Sign ``content`` as the next entry of this device's log."""
        data = encode_content(content)
        entry = sign_entry(self.key, author=self.author.did, seq=self.seq + 1, prev=self.head,
                           ts=self.author.clock() if ts is None else ts, content=data,
                           expires=expires)
        self.seq, self.head = entry.seq, entry.id
        return Signed(entry, data)

    def post(self, text: str, *, ts: int | None = None, expires: int | None = None,
             **fields: Any) -> Signed:
        return self.write({"type": "post", "text": text, **fields}, ts=ts, expires=expires)

    def reply(self, parent: Signed, text: str, *, root: Signed | None = None,
              ts: int | None = None) -> Signed:
        fields = {"reply_to": parent.ref, "root": (root or parent).ref}
        return self.write({"type": "post", "text": text, **fields}, ts=ts)

    def edit(self, target: Signed, text: str, *, ts: int | None = None) -> Signed:
        return self.write({"type": "edit", "target": target.ref, "text": text}, ts=ts)

    def delete(self, target: Signed, *, ts: int | None = None) -> Signed:
        return self.write({"type": "delete", "target": target.ref}, ts=ts)

    def react(self, kind: str, target: Signed, *, ts: int | None = None) -> Signed:
        return self.write({"type": kind, "target": target.ref}, ts=ts)

    def relate(self, kind: str, target: Author, *, ts: int | None = None) -> Signed:
        return self.write({"type": kind, "target": target.did}, ts=ts)


class Author:
    """An identity with ranked rotation keys (recovery first, then rotation) and named devices.

    ``author.phone`` is the device named ``phone``. Operations are kept in ``ops``
    in the order they were made; ``amend`` makes the next one.
    """

    def __init__(self, clock: Clock, *device_names: str) -> None:
        self.clock = clock
        self.recovery = new_key()
        self.rotation = new_key()
        names = device_names or ("phone",)
        self.devices = {name: Device(self, name) for name in names}
        now = clock()
        genesis = sign_op(self.rotation, prev=None, ts=now,
                          rotation_keys=[self.recovery.did, self.rotation.did],
                          devices={d.did: {"name": d.name, "added": now} for d in self.devices.values()})
        self.did = did_from_genesis(genesis.raw)
        self.ops: list[IdentityOp] = [genesis]

    def __getattr__(self, name: str) -> Device:
        devices = self.__dict__.get("devices", {})
        if name in devices:
            return devices[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def amend(self, signer: SigningKey | None = None, *, after: IdentityOp | None = None,
              **changes: Any) -> IdentityOp:
        """The operation that follows ``after`` (default: the last one) with ``changes``."""
        base = (after or self.ops[-1])
        body = {key: base.body[key] for key in ("rotation_keys", "devices", "revoked", "handles",
                                                 "services")}
        body.update(changes)
        op = sign_op(signer or self.rotation, prev=base.id, ts=max(self.clock(), base.ts), **body)
        self.ops.append(op)
        return op

    def add_device(self, name: str, signer: SigningKey | None = None,
                   after: IdentityOp | None = None) -> tuple[Device, IdentityOp]:
        device = Device(self, name)
        base = after or self.ops[-1]
        op = self.amend(signer, after=base, devices={**base.body["devices"],
                                                      device.did: {"name": name, "added": self.clock()}})
        self.devices[name] = device
        return device, op

    def revoke(self, name: str, last_seq: int) -> IdentityOp:
        key = self.devices[name].did
        body = self.ops[-1].body
        return self.amend(devices={k: v for k, v in body["devices"].items() if k != key},
                          revoked={**body["revoked"], key: last_seq})


def signed_header(key: SigningKey, header: dict[str, Any]) -> bytes:
    """Canonical bytes of ``header`` signed by ``key``, however wrong the header is otherwise."""
    return canonical({**header, "sig": b64url(key.sign(canonical(header)))})


def header_fields(author: Author, device: Device, content: bytes, **overrides: Any) -> dict[str, Any]:
    """The fields of the next header of ``device``'s log, for hand-made (often broken) entries."""
    fields: dict[str, Any] = {
        "v": 1, "author": author.did, "device": device.did, "seq": device.seq + 1,
        "prev": entry_id_text(device.head) if device.head else None, "ts": author.clock(),
        "content_hash": b64url(sha256(content)), "content_size": len(content),
    }
    fields.update(overrides)
    return fields


# -- through the one door -----------------------------------------------------------


async def introduce(ingest: Ingest, *authors: Author) -> None:
    """Ingest the identity logs of ``authors``; every operation must be accepted."""
    for author in authors:
        results = await ingest.identity_ops([op.raw for op in author.ops])
        problems = [r for r in results if not r.ok]
        assert not problems, problems


async def admit(ingest: Ingest, *signed: Signed | Offer) -> list[Outcome]:
    """Ingest entries (one batch, in the order given); every one must be stored."""
    offers = [item.offer if isinstance(item, Signed) else item for item in signed]
    outcomes = await ingest.entries(offers)
    refused = [o for o in outcomes if o.status != "stored"]
    assert not refused, refused
    return outcomes


async def offer(ingest: Ingest, *signed: Signed | Offer) -> list[Outcome]:
    """Ingest entries (one batch, in the order given) and return whatever became of them."""
    return await ingest.entries([item.offer if isinstance(item, Signed) else item for item in signed])


async def make_local(db: Database, author: Author) -> int:
    """Mark ``author`` as an identity of this node (as ``weft init`` does); returns its row id."""
    async with db.write() as conn:
        await identity_store.mark_local(conn, author.did)
    return await row_of(db, author)


async def row_of(db: Database, author: Author) -> int:
    async with db.read() as conn:
        row_id = (await conn.execute(select(identities.c.id)
                                     .where(identities.c.did == author.did))).scalar_one()
    return int(row_id)


def ids(signed: Sequence[Signed]) -> list[bytes]:
    return [item.id for item in signed]
