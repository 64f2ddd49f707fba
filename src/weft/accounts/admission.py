"""Who may have an account here, and making its row: the rules sign-up and arrival share.

An account is an identity the node holds keys for. Signing up makes a new identity first;
arriving with an archive brings one that exists already (weft.accounts.arrival). Either
way the same rules decide first (username, email, password, the registration mode), and
one transaction then marks the identity local and stores the sealed keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from weft.accounts.passwords import check_password_rules, hash_password
from weft.core.keys import SigningKey
from weft.errors import Conflict, Forbidden, UsageError
from weft.node import Node
from weft.store import accounts as store
from weft.store import identities as identity_store
from weft.vault import Vault

__all__ = ["EMAIL", "REGISTRATION_MODES", "USERNAME", "Admission", "RegistrationMode", "admissible",
           "create_account"]

RegistrationMode = Literal["open", "approval", "closed"]
REGISTRATION_MODES: tuple[RegistrationMode, ...] = ("open", "approval", "closed")

USERNAME: Final = re.compile(r"[A-Za-z0-9_]{1,30}")
EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
# Names a person could use to pass as the server, or that clash with our own paths.
RESERVED: Final = frozenset({
    "admin", "administrator", "root", "weft", "api", "oauth", "settings", "about", "auth", "login", "logout",
    "signup", "static", "media", "users", "tags", "search", "explore", "notifications", "support", "help",
    "postmaster", "webmaster", "abuse", "security", "instance_actor", "actor", "inbox", "outbox"})


@dataclass(frozen=True)
class Admission:
    """A new account that passed the rules, not made yet."""

    username: str
    email: str | None
    state: str                       # active, or pending when sign-ups wait for approval
    password_hash: str = field(repr=False)


async def admissible(node: Node, username: str, password: str, *, email: str | None,
                     by_admin: bool) -> Admission:
    """What a new account would be, or the error that refuses it. ``by_admin`` skips the
    registration mode."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise UsageError("a username is 1 to 30 letters, digits or underscores")
    if username.lower() in RESERVED:
        raise Conflict(f"the username {username!r} is reserved")
    email = (email or "").strip() or None
    if email is not None and (len(email) > 320 or not EMAIL.fullmatch(email)):
        raise UsageError("that does not look like an email address")
    check_password_rules(password)
    state = "active"
    async with node.db.read() as conn:
        if not by_admin:
            mode = await store.get_setting(conn, "registration", "open")
            if mode == "closed":
                raise Forbidden("this server is not taking sign-ups")
            if mode == "approval":
                state = "pending"
        if await store.account_by(conn, username=username) is not None:
            raise Conflict(f"the username {username!r} is taken")
        if email is not None and await store.account_by(conn, email=email) is not None:
            raise Conflict("an account with that email address exists")
    return Admission(username, email, state, await hash_password(password))


async def create_account(node: Node, vault: Vault, admitted: Admission, did: str, *, device: SigningKey,
                         rotation: SigningKey, recovery: SigningKey | None, reason: str | None,
                         admin: bool = False) -> int:
    """The account row of an identity whose log names ``device`` and ``rotation``, with the
    identity marked local, in one transaction; Conflict if the name or the identity is taken
    meanwhile. ``recovery`` is kept (sealed) only until its owner downloads it."""
    async with node.db.write() as conn:
        identity = (await identity_store.identity_rows(conn, [did]))[did][0]
        if identity in await store.accounts_by_identity(conn, [identity]):
            raise Conflict(f"{did} already has an account on this server")
        if await store.account_by(conn, username=admitted.username) is not None:
            raise Conflict(f"the username {admitted.username!r} is taken")
        await identity_store.mark_local(conn, did)
        return await store.insert_account(conn, {
            "identity": identity, "username": admitted.username, "password_hash": admitted.password_hash,
            "email": admitted.email, "role": "admin" if admin else "user", "state": admitted.state,
            "created_at": node.clock(), "device_key": vault.seal(device.seed),
            "rotation_key": vault.seal(rotation.seed),
            "recovery_key": None if recovery is None else vault.seal(recovery.seed),
            "reason": (reason or "")[:1000] or None, "settings": {"default_visibility": "public"}})
