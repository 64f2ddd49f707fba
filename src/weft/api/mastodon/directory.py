"""People for the client API: find them by id or by ``acct``, and change one's own profile.

How ``acct`` names people is in :mod:`weft.api.mastodon.entities`. A profile change is a
new profile entry, signed with the account's web device and ingested like any other, so
it reaches every peer; it merges with the current profile, so what the client did not
send stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from weft.api.mastodon.entities import SHORT_DID_CHARS
from weft.core.ids import DID_PREFIX, is_did_weft
from weft.errors import NotFound, UsageError
from weft.ratelimit import limit
from weft.social.remote import find_remote
from weft.store import people
from weft.store.accounts import account_by

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site
    from weft.store.people import Person

__all__ = [
    "MAX_FIELDS",
    "MAX_FIELD_CHARS",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "VISIBILITY_NAMES",
    "Directory",
    "ProfileChange",
]

MAX_NAME_CHARS: Final = 100
MAX_NOTE_CHARS: Final = 2000
MAX_FIELDS: Final = 4
MAX_FIELD_CHARS: Final = 255

# Mastodon's names of the posting defaults and weft's, which the account settings keep.
VISIBILITY_NAMES: Final = {"public": "public", "unlisted": "unlisted", "private": "followers", "direct": "direct"}

_SHORT_DID: Final = re.compile(rf"[a-z2-7]{{{SHORT_DID_CHARS}}}")


@dataclass(frozen=True)
class ProfileChange:
    """What an ``update_credentials`` call asks for; None leaves a value as it is."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    fields: list[tuple[str, str]] | None = None
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    avatar: str | None = None      # the URL of an image already kept (``{base}/media/{blob}``)
    header: str | None = None

    def checked(self) -> ProfileChange:
        """Itself, or UsageError naming the first value out of bounds."""
        if self.display_name is not None and len(self.display_name) > MAX_NAME_CHARS:
            raise UsageError(f"display_name is longer than {MAX_NAME_CHARS} characters")
        if self.note is not None and len(self.note) > MAX_NOTE_CHARS:
            raise UsageError(f"note is longer than {MAX_NOTE_CHARS} characters")
        if self.fields is not None:
            if len(self.fields) > MAX_FIELDS:
                raise UsageError(f"a profile has at most {MAX_FIELDS} fields")
            if any(len(name) > MAX_FIELD_CHARS or len(value) > MAX_FIELD_CHARS for name, value in self.fields):
                raise UsageError(f"a field's name and value are at most {MAX_FIELD_CHARS} characters each")
        if self.privacy is not None and self.privacy not in VISIBILITY_NAMES:
            raise UsageError(f"source[privacy] must be one of {', '.join(VISIBILITY_NAMES)}")
        if self.language is not None and not re.fullmatch(r"[a-z]{2,3}", self.language):
            raise UsageError("source[language] must be an ISO 639 code (two or three letters)")
        return self

    def profile_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in (("name", self.display_name), ("bio", self.note), ("locked", self.locked),
                           ("bot", self.bot), ("avatar", self.avatar), ("header", self.header)):
            if value is not None:
                values[key] = value
        if self.fields is not None:
            values["fields"] = [[name, value] for name, value in self.fields]
        return values

    def settings(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.privacy is not None:
            values["default_visibility"] = VISIBILITY_NAMES[self.privacy]
        if self.sensitive is not None:
            values["default_sensitive"] = self.sensitive
        if self.language is not None:
            values["default_language"] = self.language
        if self.discoverable is not None:
            values["discoverable"] = self.discoverable
        return values


class Directory:
    """The people of one site."""

    def __init__(self, site: Site) -> None:
        self.site = site

    async def person(self, identity: int) -> Person:
        """NotFound unless this node knows the identity with this row id."""
        async with self.site.node.db.read() as conn:
            found = await people.person(conn, identity, now_ms=self.site.node.clock())
        if found is None:
            raise NotFound(f"no account {identity}")
        return found

    async def person_by_id_text(self, text: str) -> Person:
        """The person an API id (a decimal row id) names."""
        if not text.isdigit() or len(text) > 18:
            raise NotFound(f"no account {text[:40]!r}")
        return await self.person(int(text))

    async def lookup(self, acct: str, *, resolve: bool = False) -> Person:
        """The person ``acct`` names: ``username``, ``username@this-host``, a DID's short form,
        or a whole DID; or ``user@other-host``, a Fediverse person held here or, with
        ``resolve``, looked up on their server (weft.social.remote)."""
        name = acct.strip().removeprefix("@")
        user, _, host = name.partition("@")
        if host and host.lower() != self.site.host.lower():
            identity = await find_remote(self.site, name, resolve=resolve)
            if identity is None:
                raise NotFound(f"no account {acct[:80]!r} found")
            return await self.person(identity)
        async with self.site.node.db.read() as conn:
            identity = await self._identity_named(conn, user)
        if identity is None:
            raise NotFound(f"no account {acct[:80]!r} on this server")
        return await self.person(identity)

    async def _identity_named(self, conn: Any, name: str) -> int | None:
        if is_did_weft(name):
            return await people.identity_id_of(conn, name)
        row = await account_by(conn, username=name) if name else None
        if row is not None:
            return row.identity
        if _SHORT_DID.fullmatch(name):
            found = await people.identity_ids_with_prefix(conn, DID_PREFIX + name)
            if len(found) == 1:
                return found[0]
        return None

    async def update_profile(self, account: Account, change: ProfileChange) -> Person:
        """Publish the account's profile with ``change`` merged in, and keep its posting defaults.
        Locking the account lets in whoever follows it then (signed ``follow_accept`` answers)."""
        change = change.checked()
        node = self.site.node
        me = await self.person(account.identity)
        wanted = change.profile_values()
        if any(me.profile.get(key) != value for key, value in wanted.items()):
            limit(self.site.limits.posting, account.id)
            if wanted.get("locked") is True and me.profile.get("locked") is not True:
                await self.site.social.following.let_in_followers(account)  # locking keeps them
            author = self.site.accounts.author(await self.site.accounts.account(account.id))
            await node.publish({**me.profile, **wanted, "type": "profile"}, author=author)
        settings = change.settings()
        if settings:
            await self.site.accounts.update_settings(account, **settings)
            self.site.social.pages.bump()   # settings are not entries: kept pages would not know
            self.site.grants.clear()        # grants carry the account, and so its settings
        return await self.person(account.identity)
