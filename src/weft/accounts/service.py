"""Hosted accounts: sign-up, login, sessions, password change and reset, recovery keys.

Signing up makes a self-certifying identity through the core, as ``weft init`` does:
a recovery key (highest rank), a rotation key the node keeps (lower rank) and a web
device. The node seals the device and rotation keys with its node secret (weft.vault);
it keeps the recovery key, sealed, only until the person downloads it and says so, so a
password reset here can never take the identity away from its owner. Arriving with an
archive from another node (weft.accounts.arrival) makes an account for an identity that
exists already, keeping its posts; both follow the same rules (weft.accounts.admission).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weft.accounts.admission import (
    EMAIL,
    REGISTRATION_MODES,
    RegistrationMode,
    admissible,
    create_account,
)
from weft.accounts.arrival import arrive
from weft.accounts.passwords import check_password_rules, hash_password, verify_password
from weft.core.identity import sign_op
from weft.core.keys import SigningKey
from weft.errors import AuthError, Forbidden, NotFound, UsageError
from weft.keyring import key_file_text
from weft.node import LocalIdentity, Node
from weft.store import accounts as store
from weft.vault import Vault

__all__ = ["Account", "Accounts", "RegistrationMode", "hash_token", "new_token"]

SESSION_MS = 30 * 24 * 3600 * 1000
SESSION_TOUCH_MS = 60_000
RESET_MS = 3600 * 1000


def new_token() -> tuple[str, bytes]:
    """A bearer secret and the hash stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Account:
    """A hosted account as the faces see it (no keys, no password hash)."""

    id: int
    identity: int
    did: str
    username: str
    email: str | None
    role: str
    state: str
    created_at: int
    settings: dict[str, Any]
    holds_recovery_key: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, row: store.AccountRow) -> Account:
        return cls(row.id, row.identity, row.did, row.username, row.email, row.role, row.state,
                   row.created_at, row.settings, row.recovery_key is not None)


class Accounts:
    """The hosted-account service of one node."""

    def __init__(self, node: Node, vault: Vault) -> None:
        self.node = node
        self.vault = vault
        self._authors: dict[int, LocalIdentity] = {}
        # One arrival at a time in this process: two of one identity would fork its log.
        self.arrivals = asyncio.Lock()

    # -- sign-up -----------------------------------------------------------------------

    async def registration_mode(self) -> RegistrationMode:
        async with self.node.db.read() as conn:
            mode: RegistrationMode = await store.get_setting(conn, "registration", "open")
        return mode

    async def set_registration_mode(self, mode: str) -> None:
        if mode not in REGISTRATION_MODES:
            raise UsageError(f"registration must be one of {', '.join(REGISTRATION_MODES)}")
        async with self.node.db.write() as conn:
            await store.set_setting(conn, "registration", mode)

    async def sign_up(self, username: str, password: str, *, email: str | None = None,
                      reason: str | None = None, display_name: str | None = None,
                      admin: bool = False, by_admin: bool = False) -> Account:
        """A new account and its identity. ``by_admin`` skips the registration mode."""
        admitted = await admissible(self.node, username, password, email=email, by_admin=by_admin)
        recovery, rotation, device = (SigningKey(self.node.random(32)) for _ in range(3))
        now = self.node.clock()
        genesis = sign_op(rotation, prev=None, ts=now, rotation_keys=[recovery.did, rotation.did],
                          devices={device.did: {"name": "web", "added": now}})
        did = await self.node.submit_ops([genesis.raw])
        account = await self.account(await create_account(
            self.node, self.vault, admitted, did, device=device, rotation=rotation, recovery=recovery,
            reason=reason, admin=admin))
        await self.node.publish({"type": "profile", "name": (display_name or admitted.username)[:100]},
                                author=self.author(account))
        return account

    async def arrive(self, username: str, password: str, archive: Path, recovery_key: str, *,
                     email: str | None = None, reason: str | None = None, by_admin: bool = False) -> Account:
        """An account for an identity that comes from another node with its archive and the
        text of its recovery key file: its posts and profile are the archive's, and this server
        takes over with keys of its own (weft.accounts.arrival). The sign-up rules apply."""
        return await arrive(self, username, password, archive, recovery_key, email=email, reason=reason,
                            by_admin=by_admin)

    # -- reading -----------------------------------------------------------------------

    async def get(self, account_id: int) -> Account:
        async with self.node.db.read() as conn:
            row = await store.account_by(conn, id=account_id)
        if row is None:
            raise NotFound(f"no account {account_id}")
        return Account.of(row)

    async def by_username(self, username: str) -> Account:
        async with self.node.db.read() as conn:
            row = await store.account_by(conn, username=username)
        if row is None:
            raise NotFound(f"no account @{username[:40]} on this server")
        return Account.of(row)

    async def pending(self) -> list[Account]:
        async with self.node.db.read() as conn:
            return [Account.of(row) for row in await store.list_accounts(conn, state="pending")]

    async def approve(self, account: Account) -> None:
        async with self.node.db.write() as conn:
            await store.update_account(conn, account.id, state="active")

    def author(self, account: Account) -> LocalIdentity:
        """The web device an account's posts are signed with."""
        cached = self._authors.get(account.id)
        if cached is None:
            raise NotFound("load the account with Accounts.get first")
        return cached

    async def _load_author(self, row: store.AccountRow) -> None:
        self._authors[row.id] = LocalIdentity(row.did, SigningKey(self.vault.open(row.device_key)), "web")

    # -- logging in --------------------------------------------------------------------

    async def login(self, name_or_email: str, password: str) -> Account:
        """The account these credentials open; AuthError otherwise (one message for both cases)."""
        name_or_email = name_or_email.strip().removeprefix("@")
        async with self.node.db.read() as conn:
            row = (await store.account_by(conn, email=name_or_email) if "@" in name_or_email
                   else await store.account_by(conn, username=name_or_email))
        if row is None:
            # Hash anyway, so that timing does not tell which usernames exist.
            await verify_password(await _dummy(), password)
            raise AuthError("wrong username or password")
        ok, rehashed = await verify_password(row.password_hash, password)
        if not ok:
            raise AuthError("wrong username or password")
        if rehashed is not None:
            async with self.node.db.write() as conn:
                await store.update_account(conn, row.id, password_hash=rehashed)
        self._check_state(row)
        return Account.of(row)

    @staticmethod
    def _check_state(row: store.AccountRow) -> None:
        if row.state == "pending":
            raise Forbidden("this account is waiting for an administrator's approval")
        if row.state == "disabled":
            raise Forbidden("this account is disabled")

    async def start_session(self, account: Account, user_agent: str | None = None) -> tuple[str, str]:
        """(session token for the cookie, CSRF token for forms)."""
        token, token_hash = new_token()
        csrf = secrets.token_urlsafe(24)
        now = self.node.clock()
        async with self.node.db.write() as conn:
            await store.insert_session(conn, token_hash=token_hash, account=account.id, csrf=csrf, now=now,
                                       expires_at=now + SESSION_MS, user_agent=user_agent)
        return token, csrf

    async def session(self, token: str) -> tuple[Account, str]:
        """(account, CSRF token) of a live session; AuthError if it is unknown or expired."""
        token_hash = hash_token(token)
        now = self.node.clock()
        async with self.node.db.read() as conn:
            found = await store.session_by_hash(conn, token_hash, now)
            row = None if found is None else await store.account_by(conn, id=found[0])
        if found is None or row is None:
            raise AuthError("your session has ended; log in again")
        self._check_state(row)
        if now - found[2] > SESSION_TOUCH_MS:
            async with self.node.db.write() as conn:
                await store.touch_session(conn, token_hash, now, now + SESSION_MS)
        return await self.loaded(row), found[1]

    async def loaded(self, row: store.AccountRow) -> Account:
        if row.id not in self._authors:
            await self._load_author(row)
        return Account.of(row)

    async def account(self, account_id: int) -> Account:
        """An account with its web device ready for ``author``."""
        async with self.node.db.read() as conn:
            row = await store.account_by(conn, id=account_id)
        if row is None:
            raise NotFound(f"no account {account_id}")
        return await self.loaded(row)

    async def end_session(self, token: str) -> None:
        async with self.node.db.write() as conn:
            await store.delete_sessions(conn, token_hash=hash_token(token))

    # -- passwords ---------------------------------------------------------------------

    async def change_password(self, account: Account, current: str, new: str,
                              keep_session: str | None = None) -> None:
        """Change the password; every other session of the account ends."""
        async with self.node.db.read() as conn:
            row = await store.account_by(conn, id=account.id)
        if row is None or not (await verify_password(row.password_hash, current))[0]:
            raise AuthError("the current password is wrong")
        new_hash = await hash_password(new)
        async with self.node.db.write() as conn:
            await store.update_account(conn, account.id, password_hash=new_hash)
            await store.delete_sessions(conn, account=account.id,
                                        keep=hash_token(keep_session) if keep_session else None)

    async def start_reset(self, name_or_email: str) -> tuple[Account, str] | None:
        """A reset token for the account named, if it has an email address to send it to.

        None otherwise: the caller says the same thing either way, so that the form does
        not tell strangers which addresses have accounts here.
        """
        name_or_email = name_or_email.strip().removeprefix("@")
        async with self.node.db.read() as conn:
            row = (await store.account_by(conn, email=name_or_email) if "@" in name_or_email
                   else await store.account_by(conn, username=name_or_email))
        if row is None or row.email is None:
            return None
        token, token_hash = new_token()
        now = self.node.clock()
        async with self.node.db.write() as conn:
            await store.insert_reset(conn, token_hash=token_hash, account=row.id, now=now, expires_at=now + RESET_MS)
        return Account.of(row), token

    async def reset_token_valid(self, token: str) -> bool:
        async with self.node.db.read() as conn:
            return await store.reset_valid(conn, hash_token(token), self.node.clock())

    async def finish_reset(self, token: str, new_password: str) -> Account:
        """Set a new password with a reset token (once); every session of the account ends."""
        check_password_rules(new_password)
        new_hash = await hash_password(new_password)
        async with self.node.db.write() as conn:
            account_id = await store.take_reset(conn, hash_token(token), self.node.clock())
            if account_id is None:
                raise AuthError("this reset link is invalid, used or expired; ask for a new one")
            await store.update_account(conn, account_id, password_hash=new_hash)
            await store.delete_sessions(conn, account=account_id)
        return await self.get(account_id)

    # -- settings and keys -------------------------------------------------------------

    async def update_settings(self, account: Account, *, email: str | None = None,
                              **settings: Any) -> Account:
        values: dict[str, Any] = {}
        if email is not None:
            email = email.strip() or None
            if email is not None and not EMAIL.fullmatch(email):
                raise UsageError("that does not look like an email address")
            values["email"] = email
        if settings:
            values["settings"] = {**account.settings, **settings}
        if values:
            async with self.node.db.write() as conn:
                await store.update_account(conn, account.id, **values)
        return await self.get(account.id)

    async def recovery_key_text(self, account: Account) -> str:
        """The recovery key as a key file, for the person to download and keep."""
        async with self.node.db.read() as conn:
            row = await store.account_by(conn, id=account.id)
        if row is None or row.recovery_key is None:
            raise NotFound("this server no longer holds your recovery key (you said you had kept it)")
        return key_file_text(SigningKey(self.vault.open(row.recovery_key)), "recovery", row.did)

    async def forget_recovery_key(self, account: Account) -> None:
        async with self.node.db.write() as conn:
            await store.update_account(conn, account.id, recovery_key=None)


_dummy_hash: str | None = None


async def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password(secrets.token_urlsafe(16))
    return _dummy_hash
