"""Custody of one's own identity: create it, add and revoke devices, rotate keys, recover.

Each of these signs an identity operation with a rotation key this data
directory holds and ingests it like any operation from elsewhere. Ranks, as
created by ``init``: the recovery key first (highest), then the rotation key of
the first device. Devices added later get a device key only, so a lost phone
cannot rewrite the identity; the recovery key can always take it back.
"""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import orjson

from weft.core.identity import IdentityOp, IdentityState, sign_op
from weft.core.keys import SigningKey
from weft.errors import UsageError, WeftError
from weft.keyring import key_file_text, read_key_file, write_secret
from weft.node import Node
from weft.store import identities as identity_store
from weft.store.entries import device_heads

__all__ = [
    "add_device",
    "export_recovery",
    "init_identity",
    "join_device",
    "list_devices",
    "recover",
    "revoke_device",
    "rotate",
]

PACK_MAGIC = "weft-device-pack"


async def init_identity(node: Node, name: str, device_name: str | None = None) -> str:
    """A new identity with this directory as its first device; returns the DID."""
    if node.has_identity():
        raise UsageError(f"{node.config.data_dir} already holds {node.local().did}")
    device_name = device_name or socket.gethostname() or "device"
    recovery, rotation, device = (SigningKey(node.random(32)) for _ in range(3))
    now = node.clock()
    genesis = sign_op(rotation, prev=None, ts=now, rotation_keys=[recovery.did, rotation.did],
                      devices={device.did: {"name": device_name, "added": now}})
    did = await node.submit_ops([genesis.raw])
    for role, key in (("recovery", recovery), ("rotation", rotation), ("device", device)):
        node.keys.store(role, key, did)
    node._save_local(did, device_name)
    async with node.db.write() as conn:
        await identity_store.mark_local(conn, did)
    await node.set_profile(name=name)
    return did


def _rotation_key(node: Node, state: IdentityState) -> SigningKey:
    for role in ("rotation", "recovery"):
        if node.keys.has(role):
            key = node.keys.load(role)
            if state.rank(key.did) is not None:
                return key
    raise UsageError("this device holds no rotation key of the identity; use the device that does, "
                     "or 'weft keys recover' with the recovery key")


def _sign_amendment(node: Node, signer: SigningKey, state: IdentityState, **changes: Any) -> IdentityOp:
    body: dict[str, Any] = {
        "rotation_keys": list(state.rotation_keys), "devices": dict(state.devices),
        "revoked": dict(state.revoked), "handles": list(state.handles), "services": dict(state.services),
    }
    body.update(changes)
    return sign_op(signer, prev=state.head, ts=max(node.clock(), state.ts), **body)


async def _amend(node: Node, signer: SigningKey, state: IdentityState, **changes: Any) -> IdentityState:
    await node.submit_ops([_sign_amendment(node, signer, state, **changes).raw])
    return await node.state(state.did)


async def list_devices(node: Node) -> list[dict[str, Any]]:
    state = await node.state()
    me = node.local()
    async with node.db.read() as conn:
        heads = await device_heads(conn, [*state.devices, *state.revoked])
    listed = [{"key": key, "name": info["name"], "added": info["added"], "status": "active",
               "this": key == me.device.did, "seq": heads[key].head_seq if key in heads else 0,
               "forked": heads[key].forked if key in heads else False}
              for key, info in state.devices.items()]
    listed += [{"key": key, "name": "", "added": None, "status": f"revoked after seq {last}",
                "this": key == me.device.did, "seq": heads[key].head_seq if key in heads else 0,
                "forked": heads[key].forked if key in heads else False}
               for key, last in state.revoked.items()]
    return listed


async def add_device(node: Node, name: str, pack_path: Path) -> str:
    """Authorize a new device and write its pack (secret key and identity log) to ``pack_path``."""
    state = await node.state()
    if any(info["name"] == name for info in state.devices.values()):
        raise UsageError(f"a device named {name!r} already exists")
    signer = _rotation_key(node, state)
    device = SigningKey(node.random(32))
    devices = {**state.devices, device.did: {"name": name, "added": node.clock()}}
    op = _sign_amendment(node, signer, state, devices=devices)
    async with node.db.read() as conn:
        ops = [*await identity_store.held_ops(conn, state.did), op.raw]
    pack = {"magic": PACK_MAGIC, "v": 1, "did": state.did, "name": name,
            "device_key": device.export(),
            "ops": [base64.b64encode(raw).decode("ascii") for raw in ops]}
    # The pack first: if it cannot be written, no device has been authorized for nothing.
    write_secret(pack_path, orjson.dumps(pack).decode() + "\n")
    try:
        await node.submit_ops([op.raw])
    except BaseException:
        pack_path.unlink(missing_ok=True)
        raise
    return device.did


async def join_device(node: Node, pack_path: Path) -> str:
    """Become the device a pack names: take its key and its identity log."""
    if node.has_identity():
        raise UsageError(f"{node.config.data_dir} already holds {node.local().did}")
    try:
        pack = orjson.loads(pack_path.read_bytes())
        if pack.get("magic") != PACK_MAGIC:
            raise ValueError("not a device pack")
        ops = [base64.b64decode(text, validate=True) for text in pack["ops"]]
        device = SigningKey.from_export(pack["device_key"])
        did, name = str(pack["did"]), str(pack["name"])
    except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise WeftError(f"cannot read device pack {pack_path}: {exc}") from None
    if await node.submit_ops(ops) != did:
        raise WeftError("the pack's identity log does not lead to its DID")
    state = await node.state(did)
    if device.did not in state.devices:
        raise WeftError("the pack's device is not authorized by its identity log")
    node.keys.store("device", device, did)
    node._save_local(did, name)
    async with node.db.write() as conn:
        await identity_store.mark_local(conn, did)
    return did


async def revoke_device(node: Node, which: str) -> tuple[str, int]:
    """Revoke a device (by name or did:key) after the last entry this node holds from it."""
    state = await node.state()
    matches = [key for key, info in state.devices.items() if which in (key, info["name"])]
    if not matches:
        raise UsageError(f"no active device {which!r}")
    if len(matches) > 1:
        raise UsageError(f"{which!r} names several devices; give its did:key")
    key = matches[0]
    if key == node.local().device.did:
        raise UsageError("this is the device you are using; revoke it from another device")
    async with node.db.read() as conn:
        heads = await device_heads(conn, [key])
    last = heads[key].head_seq if key in heads else 0
    devices = {k: v for k, v in state.devices.items() if k != key}
    await _amend(node, _rotation_key(node, state), state, devices=devices,
                 revoked={**state.revoked, key: last})
    return key, last


async def rotate(node: Node) -> str:
    """Replace this directory's rotation key with a new one of the same rank."""
    state = await node.state()
    if not node.keys.has("rotation") or state.rank(node.keys.load("rotation").did) is None:
        raise UsageError("this device holds no rotation key of the identity")
    old = node.keys.load("rotation")
    new = SigningKey(node.random(32))
    keys = [new.did if k == old.did else k for k in state.rotation_keys]
    await _amend(node, old, state, rotation_keys=keys)
    node.keys.store("rotation", new, state.did)
    return new.did


async def set_home(node: Node, address: str | None) -> IdentityState:
    """Name (or, with None, stop naming) this identity's home node in its identity log, as a
    gossip address with its key, so that followers' nodes can find it."""
    state = await node.state()
    services = {k: v for k, v in state.services.items() if k != "weft"}
    if address is not None:
        services["weft"] = address
    return await _amend(node, _rotation_key(node, state), state, services=services)


def export_recovery(node: Node, path: Path, *, forget: bool) -> str:
    if not node.keys.has("recovery"):
        raise UsageError("this directory no longer holds the recovery key (it was exported and forgotten)")
    key = node.keys.load("recovery")
    write_secret(path, key_file_text(key, "recovery", node.local().did))
    if read_key_file(path) != key:
        raise WeftError(f"could not read back {path}; the recovery key was kept")
    if forget:
        node.keys.forget("recovery")
    return key.did


async def recover(node: Node, key_path: Path, *, undo: int = 0) -> dict[str, Any]:
    """Take the identity back with the recovery key.

    The new operation keeps the recovery key first, gives this directory a fresh
    rotation key, keeps only this device and revokes every other one after the
    last entry held from it. It follows the newest operation whose state still
    lists the recovery key, or replaces the last ``undo`` operations (allowed
    within 72 hours of when this node received them, if they were made by a
    lower-ranked key).
    """
    recovery = read_key_file(key_path)
    me = node.local()
    async with node.db.read() as conn:
        ident = await node.identity_row(me.did)
        log = await identity_store.load_log(conn, ident, node.clock())
    states = log.states
    base_index = len(states) - 1 - undo
    if base_index < 0:
        raise UsageError(f"the identity log has only {len(states)} operations")
    while base_index >= 0 and states[base_index].rank(recovery.did) is None:
        base_index -= 1
    if base_index < 0:
        raise UsageError("this key is not a rotation key of the identity at any point of its log")
    base = states[base_index]
    async with node.db.read() as conn:
        heads = await device_heads(conn, list(base.devices))
    revoked = dict(base.revoked)
    for key in base.devices:
        if key != me.device.did:
            revoked[key] = heads[key].head_seq if key in heads else 0
    fresh = SigningKey(node.random(32))
    devices = {k: v for k, v in base.devices.items() if k == me.device.did}
    if not devices:
        devices = {me.device.did: {"name": me.device_name, "added": node.clock()}}
    op = sign_op(recovery, prev=base.head, ts=max(node.clock(), base.ts),
                 rotation_keys=[recovery.did, fresh.did], devices=devices, revoked=revoked,
                 handles=list(base.handles), services=dict(base.services))
    results = await node.ingest.identity_ops([op.raw])
    if not results[0].ok:
        raise WeftError(results[0].message or "recovery operation rejected")
    node.keys.store("rotation", fresh, me.did)
    return {"did": me.did, "revoked": sorted(set(revoked) - set(base.revoked)),
            "superseded": results[0].superseded, "rotation_key": fresh.did}
