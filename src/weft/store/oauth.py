"""OAuth 2 client apps, authorization codes and access tokens of the Mastodon client API.

SQL only; the rules (who may have a token, which scopes, PKCE) are in
``weft.api.mastodon.oauth_server``. Secrets are never stored: an app's client secret, a
code and a token are kept as their SHA-256 hashes, so a copy of the database lets no one
in. Codes are taken (deleted) in the statement that reads them, so each works once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import oauth_apps, oauth_codes, oauth_tokens

__all__ = [
    "AppRow", "CodeRow", "TokenRow", "app_by", "delete_expired_codes", "insert_app", "insert_code",
    "insert_token", "revoke_token", "take_code", "token_by_hash", "touch_token",
]


@dataclass(frozen=True)
class AppRow:
    """A registered client app (its secret only as a hash)."""

    id: int
    client_id: str
    secret_hash: bytes
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: str
    created_at: int


@dataclass(frozen=True)
class CodeRow:
    """An authorization code, as it was when taken."""

    app: int
    account: int
    redirect_uri: str
    scopes: str
    challenge: str | None
    challenge_method: str | None
    expires_at: int


@dataclass(frozen=True)
class TokenRow:
    """A live access token: whose (``account`` None for an app's own token) and what it may do."""

    id: int
    app: int | None
    account: int | None
    scopes: str
    created_at: int
    last_used: int | None


def _app(row: Any) -> AppRow:
    return AppRow(id=row.id, client_id=row.client_id, secret_hash=row.secret_hash, name=row.name,
                  website=row.website, redirect_uris=tuple(row.redirect_uris.split("\n")),
                  scopes=row.scopes, created_at=row.created_at)


async def insert_app(conn: AsyncConnection, *, client_id: str, secret_hash: bytes, name: str,
                     website: str | None, redirect_uris: list[str], scopes: str, now: int) -> AppRow:
    result = await conn.execute(oauth_apps.insert().values(
        client_id=client_id, secret_hash=secret_hash, name=name, website=website,
        redirect_uris="\n".join(redirect_uris), scopes=scopes, created_at=now).returning(oauth_apps.c.id))
    return AppRow(id=int(result.scalar_one()), client_id=client_id, secret_hash=secret_hash, name=name,
                  website=website, redirect_uris=tuple(redirect_uris), scopes=scopes, created_at=now)


async def app_by(conn: AsyncConnection, *, client_id: str | None = None, id: int | None = None) -> AppRow | None:
    """The app with this client id or row id, or None."""
    query = select(oauth_apps)
    if client_id is not None:
        query = query.where(oauth_apps.c.client_id == client_id)
    elif id is not None:
        query = query.where(oauth_apps.c.id == id)
    else:
        raise ValueError("app_by needs a client id or a row id")
    row = (await conn.execute(query)).first()
    return None if row is None else _app(row)


# -- codes ---------------------------------------------------------------------------------

async def insert_code(conn: AsyncConnection, *, code_hash: bytes, app: int, account: int, redirect_uri: str,
                      scopes: str, challenge: str | None, challenge_method: str | None,
                      expires_at: int) -> None:
    await conn.execute(oauth_codes.insert().values(
        code_hash=code_hash, app=app, account=account, redirect_uri=redirect_uri, scopes=scopes,
        challenge=challenge, challenge_method=challenge_method, expires_at=expires_at))


async def take_code(conn: AsyncConnection, code_hash: bytes) -> CodeRow | None:
    """The code with this hash, deleted as it is read: a second take finds nothing.

    Expired codes are returned too (the caller says why they do not work) and deleted alike.
    """
    result = await conn.execute(delete(oauth_codes).where(oauth_codes.c.code_hash == code_hash).returning(
        oauth_codes.c.app, oauth_codes.c.account, oauth_codes.c.redirect_uri, oauth_codes.c.scopes,
        oauth_codes.c.challenge, oauth_codes.c.challenge_method, oauth_codes.c.expires_at))
    row = result.first()
    if row is None:
        return None
    return CodeRow(app=row.app, account=row.account, redirect_uri=row.redirect_uri, scopes=row.scopes,
                   challenge=row.challenge, challenge_method=row.challenge_method, expires_at=row.expires_at)


async def delete_expired_codes(conn: AsyncConnection, now: int) -> None:
    """Drop codes nobody came back for (each new code sweeps, so the table stays small)."""
    await conn.execute(delete(oauth_codes).where(oauth_codes.c.expires_at <= now))


# -- tokens --------------------------------------------------------------------------------

async def insert_token(conn: AsyncConnection, *, token_hash: bytes, app: int | None, account: int | None,
                       scopes: str, now: int) -> None:
    await conn.execute(oauth_tokens.insert().values(token_hash=token_hash, app=app, account=account,
                                                    scopes=scopes, created_at=now))


async def token_by_hash(conn: AsyncConnection, token_hash: bytes) -> TokenRow | None:
    """The unrevoked token with this hash, or None."""
    row = (await conn.execute(select(oauth_tokens).where(oauth_tokens.c.token_hash == token_hash,
                                                         oauth_tokens.c.revoked_at.is_(None)))).first()
    if row is None:
        return None
    return TokenRow(id=row.id, app=row.app, account=row.account, scopes=row.scopes, created_at=row.created_at,
                    last_used=row.last_used)


async def touch_token(conn: AsyncConnection, token_id: int, now: int) -> None:
    await conn.execute(update(oauth_tokens).where(oauth_tokens.c.id == token_id).values(last_used=now))


async def revoke_token(conn: AsyncConnection, token_hash: bytes, app: int, now: int) -> bool:
    """Revoke the app's token with this hash; False if the app has no such live token."""
    result = await conn.execute(update(oauth_tokens).where(
        oauth_tokens.c.token_hash == token_hash, oauth_tokens.c.app == app,
        oauth_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
    return bool(result.rowcount)
