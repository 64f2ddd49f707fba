"""An intact archive that clashes with what the importing node holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from weft import custody
from weft.archive import export_archive, import_archive
from weft.core.content import encode_content
from weft.core.entry import sign_entry
from weft.core.identity import sign_op
from weft.errors import ArchiveError
from weft.node import Node
from weft.store.entries import device_heads

from .conftest import Clock, MakeConfig, row_counts


async def test_a_device_log_that_forked_here_refuses_the_whole_archive(make_config: MakeConfig,
                                                                      clock: Clock, tmp_path: Path) -> None:
    async with Node.open(make_config("a"), clock=clock) as a:
        did = await custody.init_identity(a, "alice", "laptop")
        await a.post("one")
        await export_archive(a, tmp_path / "early.weft")
        me = a.local().device
        async with a.db.read() as conn:
            head = (await device_heads(conn, [me.did]))[me.did]
        forged_content = encode_content({"type": "post", "text": "not what alice wrote next"})
        forged = sign_entry(me, author=did, seq=3, prev=head.head_id, ts=clock.now_ms(),
                            content=forged_content)
        await a.post("two")
        await export_archive(a, tmp_path / "late.weft")
    async with Node.open(make_config("b"), clock=clock) as b:
        await import_archive(b, tmp_path / "early.weft")
        assert (await b.ingest.entry(forged.raw, forged_content)).status == "stored"
        before = await row_counts(b)
        with pytest.raises(ArchiveError) as caught:
            await import_archive(b, tmp_path / "late.weft")
        assert await row_counts(b) == before
    assert str(caught.value).startswith("line 5: entry ")
    assert str(caught.value).endswith(", seq 3): this node holds a different entry at that seq "
                                      "(the device log forked; nothing was imported)")


async def test_an_identity_blocked_here_is_refused(make_config: MakeConfig, clock: Clock,
                                                   tmp_path: Path) -> None:
    async with Node.open(make_config("a"), clock=clock) as a:
        did = await custody.init_identity(a, "alice", "laptop")
        await a.post("hello")
        await export_archive(a, tmp_path / "alice.weft")
    async with Node.open(make_config("b"), clock=clock) as b:
        await custody.init_identity(b, "bob", "desk")
        await b.relate("block", did)
        before = await row_counts(b)
        with pytest.raises(ArchiveError, match=f"an identity of this node blocks {did}"):
            await import_archive(b, tmp_path / "alice.weft")
        assert await row_counts(b) == before


async def test_a_different_identity_history_is_refused(make_config: MakeConfig, clock: Clock,
                                                       tmp_path: Path) -> None:
    """The same rotation key signed two different second operations: the node keeps the first it saw."""
    async with Node.open(make_config("a"), clock=clock) as a:
        await custody.init_identity(a, "alice", "laptop")
        state = await a.state()
        rotation = a.keys.load("rotation")
        other = sign_op(rotation, prev=state.head, ts=state.ts, rotation_keys=list(state.rotation_keys),
                        devices=dict(state.devices), handles=["alice@elsewhere.example"])
        await custody.add_device(a, "phone", tmp_path / "phone.pack")
        await export_archive(a, tmp_path / "alice.weft")
    async with Node.open(make_config("b"), clock=clock) as b:
        genesis = (tmp_path / "alice.weft").read_bytes().splitlines()[1][len(b'{"op":'):-1]
        assert all(r.ok for r in await b.ingest.identity_ops([genesis, other.raw]))
        before = await row_counts(b)
        with pytest.raises(ArchiveError, match=r"^line 3: identity operation 2: this node holds a different "
                                               r"history of did:weft:\w+ and refuses it \(fork_rejected: "):
            await import_archive(b, tmp_path / "alice.weft")
        assert await row_counts(b) == before


async def test_entries_past_a_revocation_this_node_knows_of_are_counted_as_rejected(
        make_config: MakeConfig, clock: Clock, tmp_path: Path) -> None:
    """The archive predates a revocation that the importing node holds: those entries stay out."""
    async with Node.open(make_config("laptop"), clock=clock) as laptop:
        await custody.init_identity(laptop, "alice", "laptop")
        await custody.add_device(laptop, "phone", tmp_path / "phone.pack")
    async with Node.open(make_config("phone"), clock=clock) as phone:
        await custody.join_device(phone, tmp_path / "phone.pack")
        await phone.post("from the phone")
        await phone.post("and again")
        await export_archive(phone, tmp_path / "phone.weft")
    async with Node.open(make_config("laptop"), clock=clock) as laptop:
        await custody.revoke_device(laptop, "phone")  # the laptop holds none of its entries: after seq 0
        result = await import_archive(laptop, tmp_path / "phone.weft")
    assert (result["new"], result["rejected"], result["rejections"]) == (0, 2, {"revoked_device": 2})
    assert result["first_rejection"].startswith("line 4: revoked_device: entry ")
