"""Hosted accounts, their web sessions and password resets, and node-wide settings.

SQL only; the rules (who may sign up, how a password is checked) are in weft.accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import accounts, identities, node_settings, password_resets, web_sessions
from weft.store.sql import upsert

__all__ = ["AccountRow", "account_by", "insert_account", "list_accounts", "update_account"]


@dataclass(frozen=True)
class AccountRow:
    """An account as stored, sealed keys included."""

    id: int
    identity: int
    did: str
    username: str
    email: str | None
    role: str
    state: str
    created_at: int
    settings: dict[str, Any]
    password_hash: str
    device_key: bytes
    rotation_key: bytes
    recovery_key: bytes | None
    reason: str | None


def _select() -> Any:
    return select(accounts, identities.c.did).join(identities, identities.c.id == accounts.c.identity)


def _row(row: Any) -> AccountRow:
    return AccountRow(id=row.id, identity=row.identity, did=row.did, username=row.username, email=row.email,
                      role=row.role, state=row.state, created_at=row.created_at,
                      settings=orjson.loads(row.settings), password_hash=row.password_hash,
                      device_key=row.device_key, rotation_key=row.rotation_key,
                      recovery_key=row.recovery_key, reason=row.reason)


async def insert_account(conn: AsyncConnection, values: dict[str, Any]) -> int:
    values = {**values, "username_key": values["username"].lower(),
              "settings": orjson.dumps(values.get("settings") or {})}
    result = await conn.execute(accounts.insert().values(**values).returning(accounts.c.id))
    return int(result.scalar_one())


async def account_by(conn: AsyncConnection, *, id: int | None = None, username: str | None = None,
                     email: str | None = None, identity: int | None = None,
                     did: str | None = None) -> AccountRow | None:
    """The one account matching the single criterion given, or None."""
    query = _select()
    if id is not None:
        query = query.where(accounts.c.id == id)
    elif username is not None:
        query = query.where(accounts.c.username_key == username.lower())
    elif email is not None:
        query = query.where(func.lower(accounts.c.email) == email.lower()).order_by(accounts.c.id)
    elif identity is not None:
        query = query.where(accounts.c.identity == identity)
    elif did is not None:
        query = query.where(identities.c.did == did)
    else:
        raise ValueError("account_by needs one criterion")
    row = (await conn.execute(query.limit(1))).first()
    return None if row is None else _row(row)


async def accounts_by_identity(conn: AsyncConnection, identity_ids: list[int]) -> dict[int, AccountRow]:
    rows = (await conn.execute(_select().where(accounts.c.identity.in_(identity_ids)))).all()
    return {row.identity: _row(row) for row in rows}


async def list_accounts(conn: AsyncConnection, *, state: str | None = None) -> list[AccountRow]:
    query = _select().order_by(accounts.c.id)
    if state is not None:
        query = query.where(accounts.c.state == state)
    return [_row(row) for row in (await conn.execute(query)).all()]


async def count_accounts(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(accounts)
                                   .where(accounts.c.state == "active"))).scalar_one())


async def update_account(conn: AsyncConnection, account_id: int, **values: Any) -> None:
    if "settings" in values:
        values["settings"] = orjson.dumps(values["settings"])
    await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


# -- sessions ------------------------------------------------------------------------------

async def insert_session(conn: AsyncConnection, *, token_hash: bytes, account: int, csrf: str, now: int,
                         expires_at: int, user_agent: str | None) -> None:
    await conn.execute(web_sessions.insert().values(
        token_hash=token_hash, account=account, csrf=csrf, created_at=now, last_seen=now,
        expires_at=expires_at, user_agent=(user_agent or "")[:300] or None))


async def session_by_hash(conn: AsyncConnection, token_hash: bytes, now: int) -> tuple[int, str, int] | None:
    """(account id, CSRF token, last seen) of a live session."""
    row = (await conn.execute(select(web_sessions.c.account, web_sessions.c.csrf, web_sessions.c.last_seen)
                              .where(web_sessions.c.token_hash == token_hash,
                                     web_sessions.c.expires_at > now))).first()
    return None if row is None else (row.account, row.csrf, row.last_seen)


async def touch_session(conn: AsyncConnection, token_hash: bytes, now: int, expires_at: int) -> None:
    await conn.execute(update(web_sessions).where(web_sessions.c.token_hash == token_hash)
                       .values(last_seen=now, expires_at=expires_at))


async def delete_sessions(conn: AsyncConnection, *, token_hash: bytes | None = None,
                          account: int | None = None, keep: bytes | None = None) -> None:
    """End one session (``token_hash``) or all of an account's (but ``keep``)."""
    query = delete(web_sessions)
    if token_hash is not None:
        query = query.where(web_sessions.c.token_hash == token_hash)
    elif account is not None:
        query = query.where(web_sessions.c.account == account)
        if keep is not None:
            query = query.where(web_sessions.c.token_hash != keep)
    else:
        raise ValueError("delete_sessions needs a token or an account")
    await conn.execute(query)


# -- password resets ---------------------------------------------------------------------

async def insert_reset(conn: AsyncConnection, *, token_hash: bytes, account: int, now: int, expires_at: int) -> None:
    await conn.execute(password_resets.insert().values(token_hash=token_hash, account=account, created_at=now,
                                                       expires_at=expires_at))


async def take_reset(conn: AsyncConnection, token_hash: bytes, now: int) -> int | None:
    """The account of an unused, unexpired reset token, marking it used (once only)."""
    result = await conn.execute(update(password_resets).where(
        password_resets.c.token_hash == token_hash, password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > now).values(used_at=now).returning(password_resets.c.account))
    row = result.first()
    return None if row is None else int(row[0])


async def reset_valid(conn: AsyncConnection, token_hash: bytes, now: int) -> bool:
    row = (await conn.execute(select(password_resets.c.account).where(
        password_resets.c.token_hash == token_hash, password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > now))).first()
    return row is not None


# -- node settings ------------------------------------------------------------------------

async def get_setting(conn: AsyncConnection, key: str, default: Any = None) -> Any:
    row = (await conn.execute(select(node_settings.c.value).where(node_settings.c.key == key))).first()
    return default if row is None else orjson.loads(row[0])


async def set_setting(conn: AsyncConnection, key: str, value: Any) -> None:
    await conn.execute(upsert(conn, node_settings, ["key"], ["value"]), [{"key": key, "value": orjson.dumps(value)}])
