"""The OAuth 2 authorization server of the client API: apps, codes, tokens and the rules.

Routes shape requests; this decides. Secrets go out once and are kept only as hashes
(``new_token``): an app's client secret when it registers, a code when a
person authorizes, a token when a code, a password or an app's own credentials are
exchanged. A code works once, for ten minutes, for the redirect URI it was issued to,
and, when the app sent a PKCE challenge, only with the verifier that matches it (S256;
``plain`` is refused, as Mastodon does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from weft.api.mastodon import scopes as scope_rules
from weft.api.mastodon.redirects import check_redirect_uris
from weft.errors import AuthError, Forbidden, UsageError, WeftError
from weft.store import oauth as store
from weft.store.oauth import AppRow

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["CODE_MS", "Grant", "IssuedToken", "OAuthError", "OAuthServer", "hash_token", "new_token"]

CODE_MS: Final = 10 * 60 * 1000
TOKEN_TOUCH_MS: Final = 60_000
GRANT_KEPT_MS: Final = 30_000
MAX_GRANTS_KEPT: Final = 10_000
MAX_APP_NAME: Final = 100
MAX_WEBSITE: Final = 500
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class OAuthError(WeftError):
    """An OAuth request refused, with RFC 6749's error ``code`` and the HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def new_token() -> tuple[str, bytes]:
    """A bearer secret (256 random bits) and the hash stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> bytes:
    # Unsalted SHA-256 is enough for 256 random bits: there is nothing to guess.
    return hashlib.sha256(token.encode()).digest()


def _invalid_client() -> OAuthError:
    return OAuthError("invalid_client", "client authentication failed (unknown client or wrong secret)", 401)


@dataclass(frozen=True)
class IssuedToken:
    """A new access token, in the clear this once."""

    token: str
    scopes: tuple[str, ...]
    created_at: int  # ms


@dataclass(frozen=True)
class Grant:
    """What a bearer token lets its holder do: act for ``account`` (None: the app itself)
    within ``scopes``."""

    token_id: int
    app: AppRow | None
    account: Account | None
    scopes: tuple[str, ...]


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(digest, challenge)


class OAuthServer:
    """Apps, codes and tokens of one site."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.db = site.node.db
        self.clock = site.node.clock

    # -- apps --------------------------------------------------------------------------

    async def register_app(self, name: str | None, redirect_uris: list[str], scopes: str | None,
                           website: str | None) -> tuple[AppRow, str]:
        """A new app and its client secret (shown once)."""
        name = (name or "").strip()
        if not name:
            raise UsageError("client_name can't be blank")
        if len(name) > MAX_APP_NAME:
            raise UsageError(f"client_name is longer than {MAX_APP_NAME} characters")
        website = (website or "").strip() or None
        if website is not None and (len(website) > MAX_WEBSITE or not re.match(r"https?://", website, re.I)):
            raise UsageError("website must be an http(s) URL")
        uris = check_redirect_uris(redirect_uris)
        wanted = scope_rules.scope_text(scope_rules.parse_scopes(scopes))
        client_id = secrets.token_urlsafe(32)
        secret, secret_hash = new_token()
        async with self.db.write() as conn:
            app = await store.insert_app(conn, client_id=client_id, secret_hash=secret_hash, name=name,
                                         website=website, redirect_uris=uris, scopes=wanted, now=self.clock())
        return app, secret

    async def app(self, client_id: str | None) -> AppRow | None:
        if not client_id or len(client_id) > 200:
            return None
        async with self.db.read() as conn:
            return await store.app_by(conn, client_id=client_id)

    async def app_by_id(self, app_id: int) -> AppRow | None:
        async with self.db.read() as conn:
            return await store.app_by(conn, id=app_id)

    async def authenticate_client(self, client_id: str | None, client_secret: str | None) -> AppRow:
        """The app these credentials name; OAuthError ``invalid_client`` otherwise."""
        app = await self.app(client_id)
        given = hash_token(client_secret or "")
        if app is None or not client_secret or not hmac.compare_digest(given, app.secret_hash):
            raise _invalid_client()
        return app

    @staticmethod
    def redirect_uri_for(app: AppRow, redirect_uri: str | None) -> str:
        """The URI an authorization answers to: the one asked for, which the app must have
        registered, or the app's only one when none is asked for."""
        if redirect_uri is None or redirect_uri == "":
            if len(app.redirect_uris) == 1:
                return app.redirect_uris[0]
            raise OAuthError("invalid_request", "redirect_uri is missing (the app registered several)")
        if redirect_uri not in app.redirect_uris:
            raise OAuthError("invalid_grant", "the redirect URI is not one the app registered")
        return redirect_uri

    @staticmethod
    def requested_scopes(app: AppRow, scope: str | None) -> tuple[str, ...]:
        """The scopes asked for, which must lie within the app's; OAuthError ``invalid_scope``."""
        try:
            wanted = scope_rules.parse_scopes(scope)
            scope_rules.check_within(wanted, tuple(app.scopes.split()))
        except scope_rules.InvalidScope as exc:
            raise OAuthError("invalid_scope", str(exc)) from None
        return wanted

    @staticmethod
    def check_challenge(challenge: str | None, method: str | None) -> None:
        if challenge is None or challenge == "":
            return
        if (method or "plain") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "code_challenge must be 43 to 128 URL-safe characters")

    # -- codes -------------------------------------------------------------------------

    async def grant_code(self, app: AppRow, account: Account, redirect_uri: str, scopes: tuple[str, ...],
                         challenge: str | None, challenge_method: str | None) -> str:
        """A code for ``app`` to exchange for a token acting for ``account``."""
        self.check_challenge(challenge, challenge_method)
        code, code_hash = new_token()
        now = self.clock()
        async with self.db.write() as conn:
            await store.delete_expired_codes(conn, now)
            await store.insert_code(conn, code_hash=code_hash, app=app.id, account=account.id,
                                    redirect_uri=redirect_uri, scopes=scope_rules.scope_text(scopes),
                                    challenge=challenge or None, challenge_method="S256" if challenge else None,
                                    expires_at=now + CODE_MS)
        return code

    async def exchange_code(self, app: AppRow, code: str | None, redirect_uri: str | None,
                            verifier: str | None) -> IssuedToken:
        """The token a code stands for; OAuthError ``invalid_grant`` if it is unknown, used,
        expired, another app's, for another redirect URI, or the verifier does not match."""
        if not code:
            raise OAuthError("invalid_request", "code is missing")
        async with self.db.write() as conn:
            found = await store.take_code(conn, hash_token(code))
        if found is None or found.app != app.id:
            raise OAuthError("invalid_grant", "the authorization code is invalid or has been used")
        if found.expires_at <= self.clock():
            raise OAuthError("invalid_grant", "the authorization code has expired")
        # Asked for, it must be the code's; left out, only an app with a single URI can mean it.
        named = redirect_uri or (app.redirect_uris[0] if len(app.redirect_uris) == 1 else None)
        if named != found.redirect_uri:
            raise OAuthError("invalid_grant", "the redirect URI differs from the one the code was issued to")
        if found.challenge is not None and not (verifier and _pkce_matches(verifier, found.challenge)):
            raise OAuthError("invalid_grant", "the code verifier does not match the code challenge")
        return await self.issue(app, found.account, tuple(found.scopes.split()))

    # -- tokens ------------------------------------------------------------------------

    async def issue(self, app: AppRow | None, account_id: int | None, scopes: tuple[str, ...]) -> IssuedToken:
        token, token_hash = new_token()
        now = self.clock()
        async with self.db.write() as conn:
            await store.insert_token(conn, token_hash=token_hash, app=None if app is None else app.id,
                                     account=account_id, scopes=scope_rules.scope_text(scopes), now=now)
        return IssuedToken(token, scopes, now)

    async def grant(self, token: str) -> Grant:
        """What a bearer token allows; AuthError if it is unknown or revoked, Forbidden if its
        account may not act now (waiting for approval, disabled).

        A grant is kept in memory for ``GRANT_KEPT_MS``: apps send the same token with every
        request, and reading it costs two queries. A revocation through this server ends it at
        once; one made elsewhere (another worker), or an account disabled, within that time.
        """
        token_hash = hash_token(token)
        now = self.clock()
        kept = self.site.grants.get(token_hash)
        if kept is not None and now - kept[1] < GRANT_KEPT_MS:
            return cast("Grant", kept[0])
        grant = await self._read_grant(token)
        if len(self.site.grants) >= MAX_GRANTS_KEPT:
            self.site.grants.clear()
        self.site.grants[token_hash] = (grant, now)
        return grant

    async def _read_grant(self, token: str) -> Grant:
        async with self.db.read() as conn:
            row = await store.token_by_hash(conn, hash_token(token))
            app = None if row is None or row.app is None else await store.app_by(conn, id=row.app)
        if row is None:
            raise AuthError("The access token is invalid")
        account = None
        if row.account is not None:
            account = await self.site.accounts.account(row.account)
            if account.state == "pending":
                raise Forbidden("Your login is currently pending approval")
            if account.state != "active":
                raise Forbidden("Your login is currently disabled")
        now = self.clock()
        if row.last_used is None or now - row.last_used > TOKEN_TOUCH_MS:
            async with self.db.write() as conn:
                await store.touch_token(conn, row.id, now)
        return Grant(row.id, app, account, tuple(row.scopes.split()))

    async def revoke(self, app: AppRow, token: str | None) -> None:
        """Revoke one of the app's tokens (RFC 7009): an unknown token is no error, another
        app's is refused."""
        if not token:
            raise OAuthError("invalid_request", "token is missing")
        token_hash = hash_token(token)
        self.site.grants.pop(token_hash, None)
        async with self.db.write() as conn:
            row = await store.token_by_hash(conn, token_hash)
            if row is None:
                return
            if row.app != app.id:
                raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", 403)
            await store.revoke_token(conn, token_hash, app.id, self.clock())
