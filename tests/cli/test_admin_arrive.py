"""``weft admin arrive``: an administrator moves someone in with their archive and recovery key
file, as the real program run on a data directory; the password comes from a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from weft.config import NodeConfig
from weft.node import Node
from weft.site import Site
from weft.store.statuses import Page

from ..accounts.departure import depart
from .program import out, weft

PASSWORD = "alice's password on B"


async def test_weft_admin_arrive_moves_someone_in_with_their_archive(
        make_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    gone = await depart(make_config("a"), tmp_path)
    config = make_config("b")
    key, wrong_key, password_file = tmp_path / "alice.key", tmp_path / "bob.key", tmp_path / "password"
    key.write_text(gone.recovery_key)
    wrong_key.write_text(gone.bob_recovery_key)
    password_file.write_text(PASSWORD + "\n")
    async with Node.open(config) as node:
        await Site.for_node(node, "http://b.test", environ={}).accounts.set_registration_mode("closed")

    refused = weft("admin", "arrive", "alice", str(gone.archive), "--recovery-key", str(wrong_key),
                   "--password-file", str(password_file), data=config.data_dir, ok=False)
    assert refused.code == 2 and "error: this recovery key is not a rotation key" in refused.err

    made = weft("admin", "arrive", "alice", str(gone.archive), "--recovery-key", str(key),
                "--password-file", str(password_file), "--email", "alice@b.test", data=config.data_dir)
    assert out(made) == f"alice {gone.did}"

    async with Node.open(config) as node:
        site = Site.for_node(node, "http://b.test", environ={})     # the node.secret weft made
        alice = await site.accounts.login("alice@b.test", PASSWORD)
        assert alice.did == gone.did and alice.state == "active" and not alice.holds_recovery_key
        shown = await site.social.statuses.of_account(None, alice.identity, Page())
        assert {status.row.text for status in shown} == gone.texts
        await site.social.close()
