"""Arriving at a node with a weft archive (Accounts.arrive), on SQLite and PostgreSQL: the
account keeps its identity, posts and profile, the server takes over with keys of its own,
the old server's device can add nothing more, and nothing old is federated as new. Every
refusal leaves the database as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from weft.accounts.arrival import _hosting, recovery_key_from_text
from weft.archive import export_archive, import_archive
from weft.config import NodeConfig
from weft.core.entry import decode_entry
from weft.core.ids import entry_id_text
from weft.core.keys import SigningKey
from weft.custody import init_identity
from weft.errors import ArchiveError, Conflict, Forbidden, NotFound, UsageError
from weft.keyring import key_file_text
from weft.node import Node
from weft.site import Site
from weft.social import Draft
from weft.store.schema import entries, federation_queue, metadata
from weft.store.statuses import Page

from .departure import ENV, Departure, depart

NEW_PASSWORD = "a password for node B"


async def _snapshot(node: Node) -> dict[str, int]:
    """How many rows each table holds: a refused arrival must change none of them."""
    async with node.db.read() as conn:
        return {table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                for table in metadata.sorted_tables}


async def _queued_entry_ids(node: Node) -> set[bytes]:
    async with node.db.read() as conn:
        rows = await conn.execute(select(entries.c.entry_id).join(federation_queue,
                                                                  federation_queue.c.entry == entries.c.id))
        return {bytes(entry_id) for (entry_id,) in rows.all()}


def _damaged(archive: Path, folder: Path) -> list[tuple[str, Path]]:
    data = archive.read_bytes()
    lines = data.splitlines(keepends=True)
    flipped = bytearray(data)
    flipped[len(data) - len(lines[-1]) - 30] ^= 0x01          # one bit of the last entry
    truncated = folder / "truncated.weft"
    truncated.write_bytes(b"".join(lines[:-1]))
    tampered = folder / "tampered.weft"
    tampered.write_bytes(bytes(flipped))
    forged_op = folder / "forged-op.weft"
    forged_op.write_bytes(data.replace(b'"name":"web"', b'"name":"wef"', 1))
    return [("tampered", tampered), ("truncated", truncated), ("forged identity operation", forged_op)]


async def test_an_account_arrives_with_its_archive_and_keeps_its_posts(
        any_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    gone = await depart(any_config("a"), tmp_path)
    async with Node.open(any_config("b")) as node:
        site = Site.for_node(node, "http://b.test", environ=ENV)
        accounts = site.accounts
        await accounts.sign_up("carol", "carol's long password", by_admin=True)
        await init_identity(node, "Operator")
        own = tmp_path / "own.weft"
        await export_archive(node, own)
        own_key = key_file_text(node.keys.load("recovery"), "recovery", node.local().did)
        before = await _snapshot(node)

        refusals: list[tuple[type[Exception], str, Callable[[], object]]] = [
            (UsageError, "not a rotation key", lambda: accounts.arrive(
                "alice", NEW_PASSWORD, gone.archive, gone.bob_recovery_key)),
            (UsageError, "not its recovery key", lambda: accounts.arrive(
                "alice", NEW_PASSWORD, gone.archive, gone.rotation_key)),
            (UsageError, "not hold a readable key", lambda: accounts.arrive(
                "alice", NEW_PASSWORD, gone.archive, "hello")),
            (Conflict, "'carol' is taken", lambda: accounts.arrive(
                "carol", NEW_PASSWORD, gone.archive, gone.recovery_key)),
            (Conflict, "this server's own identity", lambda: accounts.arrive(
                "operator", NEW_PASSWORD, own, own_key)),
            (UsageError, "at least", lambda: accounts.arrive("alice", "short", gone.archive, gone.recovery_key)),
            (ArchiveError, "not a weft archive", lambda: accounts.arrive(
                "alice", NEW_PASSWORD, Path(__file__), gone.recovery_key)),
        ]
        for _, path in _damaged(gone.archive, tmp_path):
            refusals.append((ArchiveError, "line ", lambda path=path: accounts.arrive(  # type: ignore[misc]
                "alice", NEW_PASSWORD, path, gone.recovery_key)))
        for error, words, attempt in refusals:
            with pytest.raises(error, match=words):
                await attempt()  # type: ignore[misc]
            assert await _snapshot(node) == before, words

        await accounts.set_registration_mode("closed")
        with pytest.raises(Forbidden):
            await accounts.arrive("alice", NEW_PASSWORD, gone.archive, gone.recovery_key)
        await accounts.set_registration_mode("approval")

        queued = await _queued_entry_ids(node)          # carol's profile, from her sign-up
        alice = await accounts.arrive("alice", NEW_PASSWORD, gone.archive, gone.recovery_key,
                                      email="alice@b.test", reason="I moved")
        assert alice.state == "pending" and alice.did == gone.did and not alice.holds_recovery_key
        await accounts.approve(alice)
        with pytest.raises(Conflict, match="already has an account"):
            await accounts.arrive("alice2", NEW_PASSWORD, gone.archive, gone.recovery_key)
        await _check_arrived(site, gone, queued)
        await site.social.close()


async def _check_arrived(site: Site, gone: Departure, queued: set[bytes]) -> None:
    node, accounts = site.node, site.accounts
    alice = await accounts.login("alice", NEW_PASSWORD)
    state = await node.state(gone.did)
    recovery = recovery_key_from_text(gone.recovery_key)
    assert state.rotation_keys[0] == recovery.did and len(state.rotation_keys) == 2
    assert state.revoked[gone.old_device] == gone.old_seq
    [(device, info)] = state.devices.items()
    assert info["name"] == "web" and device != gone.old_device
    assert accounts.author(await accounts.account(alice.id)).device.did == device

    assert await _queued_entry_ids(node) == queued, "imported entries must not be federated as new"
    reader = site.social.statuses
    shown = await reader.of_account(None, alice.identity, Page())
    assert {status.row.text for status in shown} == gone.texts
    edited = next(status for status in shown if status.row.text == gone.edited)
    assert edited.row.edited_ts is not None and edited.row.likes == 1
    person = shown[0].author
    assert person.username == "alice" and person.statuses == 2
    assert person.profile["name"] == "Alice Archived" and person.profile["bio"] == "moving soon"

    later = await node.ingest.entry(*gone.later)
    assert later.status == "rejected" and later.reason == "revoked_device", later

    new = await site.social.posting.compose(alice, Draft("hello from node B"))
    [(raw, _)] = await node.device_log(device)
    header = decode_entry(raw)
    assert entry_id_text(header.id) == new.row.entry_id and header.seq == 1 and header.prev is None
    assert await _queued_entry_ids(node) == {*queued, header.id}
    public = await reader.timeline(None, "public", Page())
    assert {status.row.text for status in public} >= {*gone.texts, "hello from node B"}


async def test_an_arrival_cut_short_before_the_account_is_made_can_be_retried(
        any_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    gone = await depart(any_config("a"), tmp_path)
    async with Node.open(any_config("b")) as node:
        site = Site.for_node(node, "http://b.test", environ=ENV)
        # The crash: the archive imported and the operation moving the identity here stored,
        # but the process died before the account row (and with it the keys it named) was made.
        await import_archive(node, gone.archive)
        lost = await _hosting(node, recovery_key_from_text(gone.recovery_key), gone.did)
        assert (await node.ingest.identity_ops([lost.op.raw]))[0].ok
        assert await _queued_entry_ids(node) == set()
        with pytest.raises(NotFound):
            await site.accounts.by_username("alice")

        alice = await site.accounts.arrive("alice", NEW_PASSWORD, gone.archive, gone.recovery_key)
        state = await node.state(gone.did)
        assert state.revoked[lost.device.did] == 0 and lost.device.did not in state.devices
        assert lost.rotation.did not in state.rotation_keys
        assert await _queued_entry_ids(node) == set()
        shown = await site.social.statuses.of_account(None, alice.identity, Page())
        assert {status.row.text for status in shown} == gone.texts
        await site.social.posting.compose(alice, Draft("after the retry"))
        await site.social.close()


def test_a_recovery_key_file_is_read_as_downloaded_or_as_its_key_line() -> None:
    key = SigningKey(b"\x07" * 32)
    text = key_file_text(key, "recovery", "did:weft:x")
    assert recovery_key_from_text(text) == key
    assert recovery_key_from_text(key.export()) == key
    for bad in ("", "# only a comment\n", text + text, "z" * 5000):
        with pytest.raises(UsageError):
            recovery_key_from_text(bad)
