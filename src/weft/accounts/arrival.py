"""Arriving with a weft archive: an account here for an identity that lived on another node.

The person brings the archive of their identity (its whole signed history) and the
recovery key they downloaded from their old server. The order matters:

1. everything that can be checked without writing is checked first (the sign-up rules,
   the key file, the identity the archive's operations lead to, that nobody hosts it
   here, that the key is its recovery key);
2. the archive is imported (``weft.archive.import_archive``: verified whole, then
   ingested) *before* the account row exists, because the federation outbox queues only
   entries of hosted accounts: nothing old goes out to the Fediverse as if new;
3. an identity operation signed with the recovery key gives this server a fresh rotation
   key and a fresh web device and revokes every earlier device after the last entry held
   from it, so the old server can add nothing more;
4. one transaction marks the identity local and makes the account.

A crash between 2 and 4 leaves imported entries of an identity nobody hosts (harmless:
they are not federated, and no block of theirs applies node-wide), perhaps an operation
naming keys that were never stored. A retry imports the archive again as duplicates and
signs a new operation on top of whatever the log holds, revoking the lost device too.
The recovery key is not kept: its owner holds it already.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from weft.accounts.admission import admissible, create_account
from weft.archive import import_archive
from weft.core.archive import MAX_LINE_BYTES, verify_lines
from weft.core.identity import IdentityOp, IdentityState, decode_op, next_state, sign_op
from weft.core.keys import SigningKey
from weft.errors import (
    ArchiveError,
    Conflict,
    IdentityOpRejected,
    KeyFormatError,
    NotFound,
    UsageError,
)
from weft.node import Node
from weft.store import accounts as store
from weft.store import identities as identity_store
from weft.store.entries import device_heads
from weft.sync.homes import HOME_SERVICE

if TYPE_CHECKING:
    from weft.accounts.service import Account, Accounts

__all__ = ["MAX_KEY_FILE_CHARS", "archived_identity", "arrive", "recovery_key_from_text"]

MAX_KEY_FILE_CHARS: Final = 4096
_OP_PREFIX: Final = b'{"op":'


def recovery_key_from_text(text: str) -> SigningKey:
    """The key in a key file's text, as /settings/recovery-key and ``weft keys
    recovery-export`` write it (comment lines, then the key), or the key line alone."""
    if len(text) > MAX_KEY_FILE_CHARS:
        raise UsageError("the recovery key file is too large to be a weft key file")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise UsageError("the recovery key file is not a weft key file (download it from the "
                         "recovery key page of your old server's settings)")
    try:
        return SigningKey.from_export(lines[0])
    except KeyFormatError:
        raise UsageError("the recovery key file does not hold a readable key") from None


def archived_identity(path: Path, now_ms: int) -> IdentityState:
    """The identity state the archive's operations lead to, read from its first lines only.

    Enough to refuse early (a key of another identity, an identity hosted here) without
    reading the whole file; ``import_archive`` verifies every line again, these included.
    """
    state: IdentityState | None = None
    try:
        with path.open("rb") as handle:
            if handle.readline(MAX_LINE_BYTES + 1).startswith(b'{"archive":'):
                while (line := handle.readline(MAX_LINE_BYTES + 1)).startswith(_OP_PREFIX):
                    if not line.endswith(b"}\n"):
                        state = None
                        break
                    state = next_state(state, decode_op(line[len(_OP_PREFIX):-2]), now_ms)
    except OSError as exc:
        raise ArchiveError(f"cannot read the archive: {exc.strerror or exc}") from None
    except IdentityOpRejected:
        state = None
    if state is None:
        raise _precise_error(path, now_ms)
    return state


def _precise_error(path: Path, now_ms: int) -> ArchiveError:
    """What the full verifier says of a file whose first lines are wrong: the same words a
    failed import would use, naming the line."""
    try:
        with path.open("rb") as handle:
            verify_lines(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), now_ms)
    except ArchiveError as exc:
        return exc
    except OSError as exc:
        return ArchiveError(f"cannot read the archive: {exc.strerror or exc}")
    return ArchiveError("the archive's identity operations cannot be read")


def _check_recovery_key(key: SigningKey, state: IdentityState) -> None:
    rank = state.rank(key.did)
    if rank is None:
        raise UsageError(f"this recovery key is not a rotation key of {state.did}, the identity of "
                         "the archive: it belongs to another identity, or it was replaced")
    if rank != 0:
        # A lower-ranked key is the kind a server keeps; an operation it signs could be undone
        # for 72 hours by whoever holds the higher-ranked one (the recovery window).
        raise UsageError(f"this key is a rotation key of {state.did} but not its recovery key "
                         "(the highest-ranked one); arrive with the recovery key")


@dataclass(frozen=True)
class _Hosting:
    """The keys this server will keep for an arriving identity, and the operation naming them."""

    rotation: SigningKey
    device: SigningKey
    op: IdentityOp


async def _check_not_here(node: Node, did: str) -> None:
    """Refuse an identity this node hosts already, or that is its own."""
    async with node.db.read() as conn:
        rows = await identity_store.identity_rows(conn, [did])
        if did not in rows:
            return
        ident = rows[did][0]
        hosted = await store.accounts_by_identity(conn, [ident])
        local = ident in await identity_store.local_identity_ids(conn)
    if ident in hosted:
        raise Conflict(f"{did} already has an account on this server (@{hosted[ident].username})")
    if local:
        raise Conflict(f"{did} is this server's own identity")


async def _hosting(node: Node, key: SigningKey, did: str) -> _Hosting:
    """The operation that moves the identity here, on top of the log as this node holds it."""
    state = await node.state(did)
    _check_recovery_key(key, state)
    async with node.db.read() as conn:
        heads = await device_heads(conn, list(state.devices))
    revoked = dict(state.revoked)
    for old in state.devices:
        # The last entry held here, the archive's included: nothing after it is accepted.
        revoked[old] = heads[old].head_seq if old in heads else 0
    rotation, device = SigningKey(node.random(32)), SigningKey(node.random(32))
    now = max(node.clock(), state.ts)
    # The home node named in the log is the old one: followers' nodes should stop asking it.
    services = {name: value for name, value in state.services.items() if name != HOME_SERVICE}
    op = sign_op(key, prev=state.head, ts=now, rotation_keys=[key.did, rotation.did],
                 devices={device.did: {"name": "web", "added": now}}, revoked=revoked,
                 handles=list(state.handles), services=services)
    return _Hosting(rotation, device, op)


async def arrive(accounts: Accounts, username: str, password: str, archive: Path, recovery_key: str, *,
                 email: str | None, reason: str | None, by_admin: bool) -> Account:
    """See ``Accounts.arrive`` and this module's docstring."""
    node = accounts.node
    admitted = await admissible(node, username, password, email=email, by_admin=by_admin)
    key = recovery_key_from_text(recovery_key)
    archived = await asyncio.to_thread(archived_identity, archive, node.clock())
    did = archived.did
    async with accounts.arrivals:
        await _check_not_here(node, did)
        try:
            held = await node.state(did)
        except NotFound:
            held = archived
        _check_recovery_key(key, held if held.length >= archived.length else archived)
        await import_archive(node, archive)
        hosting = await _hosting(node, key, did)
        results = await node.ingest.identity_ops([hosting.op.raw])
        if not results[0].ok:
            # Another arrival of the same identity (in another process) got there first.
            raise Conflict(f"this server refused the operation that moves {did} here: "
                            f"{results[0].message}")
        account_id = await create_account(node, accounts.vault, admitted, did, device=hosting.device,
                                          rotation=hosting.rotation, recovery=None, reason=reason)
    return await accounts.account(account_id)
