"""Hosted accounts: sign-up makes an identity whose keys the node keeps sealed; passwords,
sessions, resets and recovery keys behave as a person expects."""

from __future__ import annotations

import pytest

from weft.accounts import Accounts
from weft.core.identity import IdentityState
from weft.core.keys import SigningKey
from weft.errors import AuthError, Conflict, Forbidden, UsageError
from weft.node import Node
from weft.store.schema import accounts as accounts_table
from weft.vault import SealError, Vault


async def test_sign_up_makes_an_identity_whose_keys_are_sealed(any_config) -> None:
    config = any_config("n")
    async with Node.open(config) as node:
        service = Accounts(node, Vault.for_data_dir(config.data_dir, environ={}))
        alice = await service.sign_up("Alice", "correct horse battery", email="alice@example.org")
        state: IdentityState = await node.state(alice.did)
        assert len(state.rotation_keys) == 2 and len(state.devices) == 1
        profile = await node.profile(alice.did)
        assert profile["profile"]["name"] == "Alice"
        async with node.db.read() as conn:
            row = (await conn.execute(accounts_table.select())).one()
        author = service.author(alice)
        assert author.device.seed not in row.device_key          # sealed, not stored in the clear
        assert author.device.did in state.devices
        other = Vault(b"\x01" * 32)
        with pytest.raises(SealError):
            other.open(row.device_key)


async def test_usernames_are_unique_whatever_the_case_and_checked(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        service = Accounts(node, Vault(b"\x02" * 32))
        await service.sign_up("bob", "a long password")
        with pytest.raises(Conflict):
            await service.sign_up("BOB", "a long password")
        for bad in ("", "bob smith", "x" * 31, "bob!"):
            with pytest.raises(UsageError):
                await service.sign_up(bad, "a long password")
        with pytest.raises(Conflict):
            await service.sign_up("admin", "a long password")
        with pytest.raises(UsageError):
            await service.sign_up("carol", "short")


async def test_login_sessions_and_password_change(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        service = Accounts(node, Vault(b"\x03" * 32))
        carol = await service.sign_up("carol", "first password", email="carol@example.org")
        with pytest.raises(AuthError):
            await service.login("carol", "wrong password")
        with pytest.raises(AuthError):
            await service.login("nobody", "first password")
        assert (await service.login("carol@EXAMPLE.org", "first password")).id == carol.id
        token, csrf = await service.start_session(carol)
        other, _ = await service.start_session(carol)
        account, same_csrf = await service.session(token)
        assert account.id == carol.id and same_csrf == csrf
        await service.change_password(carol, "first password", "second password", keep_session=token)
        await service.session(token)
        with pytest.raises(AuthError):
            await service.session(other)                      # other sessions end
        with pytest.raises(AuthError):
            await service.login("carol", "first password")
        await service.login("carol", "second password")
        await service.end_session(token)
        with pytest.raises(AuthError):
            await service.session(token)


async def test_a_reset_token_works_once(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        service = Accounts(node, Vault(b"\x04" * 32))
        await service.sign_up("dave", "first password", email="dave@example.org")
        await service.sign_up("erin", "first password")
        assert await service.start_reset("erin") is None           # no address to send it to
        assert await service.start_reset("nobody@example.org") is None
        started = await service.start_reset("dave@example.org")
        assert started is not None
        _, token = started
        assert await service.reset_token_valid(token)
        await service.finish_reset(token, "new password!")
        assert not await service.reset_token_valid(token)
        with pytest.raises(AuthError):
            await service.finish_reset(token, "another password")
        await service.login("dave", "new password!")


async def test_registration_modes(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        service = Accounts(node, Vault(b"\x05" * 32))
        await service.set_registration_mode("closed")
        with pytest.raises(Forbidden):
            await service.sign_up("frank", "a long password")
        await service.sign_up("frank", "a long password", by_admin=True, admin=True)
        await service.set_registration_mode("approval")
        gina = await service.sign_up("gina", "a long password", reason="I know Frank")
        with pytest.raises(Forbidden):
            await service.login("gina", "a long password")
        assert [a.username for a in await service.pending()] == ["gina"]
        await service.approve(gina)
        await service.login("gina", "a long password")


async def test_the_recovery_key_can_be_downloaded_until_forgotten(make_config) -> None:
    async with Node.open(make_config("n")) as node:
        service = Accounts(node, Vault(b"\x06" * 32))
        hal = await service.sign_up("hal", "a long password")
        text = await service.recovery_key_text(hal)
        state = await node.state(hal.did)
        assert SigningKey.from_export(text.strip().splitlines()[-1]).did == state.rotation_keys[0]
        await service.forget_recovery_key(hal)
        hal = await service.get(hal.id)
        assert not hal.holds_recovery_key
        with pytest.raises(Exception, match="no longer holds"):
            await service.recovery_key_text(hal)
