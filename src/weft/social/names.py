"""What people are called on this site: handles, and finding a person by one.

Every face names people the same way, so that a link written by one works in another:

- an account this node hosts is its ``username`` (``/@alice``);
- a Fediverse person is ``user@host`` (``/@bob@mastodon.example``): the handle WebFinger
  agreed to, or until it has, the one their actor suggests (weft.store.people.RemoteInfo);
- any other identity (the node's operator, a peer-to-peer identity it holds or has heard
  of) is the **short form of its DID**: the first 16 characters of the base32 after
  ``did:weft:`` (80 bits, so two identities never share one in practice). They are
  lowercase letters and digits, valid as a Mastodon username, and never change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from weft.core.ids import DID_PREFIX, is_actor_iri, is_did_weft
from weft.store import people
from weft.store.accounts import account_by

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from weft.store.people import Person

__all__ = ["HANDLE_PATTERN", "REMOTE_HANDLE_PATTERN", "SHORT_DID_CHARS", "handle_of", "identity_named",
           "is_remote_handle", "short_did"]

SHORT_DID_CHARS: Final = 16
# A handle of another server: user@host[:port]. Usernames there may hold dots and dashes.
REMOTE_HANDLE_PATTERN: Final = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}@[A-Za-z0-9.\-]{1,253}(?::[0-9]{1,5})?"
# A handle as it appears in a URL: a username (weft.accounts) or a short DID, neither with a
# dot, so ``/@alice.rss`` is never a handle; or a remote handle, which always has its ``@host``.
HANDLE_PATTERN: Final = rf"[A-Za-z0-9_]{{1,30}}|{REMOTE_HANDLE_PATTERN}"
_SHORT_DID: Final = re.compile(rf"[a-z2-7]{{{SHORT_DID_CHARS}}}")
_REMOTE_HANDLE: Final = re.compile(REMOTE_HANDLE_PATTERN)


def short_did(did: str) -> str:
    """The stable short name of an identity not hosted here (see the module docstring)."""
    return did.removeprefix(DID_PREFIX)[:SHORT_DID_CHARS]


def handle_of(person: Person) -> str:
    """What ``person`` is called here: the account's username, a remote person's ``user@host``,
    else the DID's short form."""
    if person.username:
        return person.username
    if person.remote is not None:
        return person.remote.handle
    return short_did(person.did)


def is_remote_handle(name: str) -> bool:
    """``user@host`` or ``@user@host`` (a host is not checked to be someone else's here)."""
    return _REMOTE_HANDLE.fullmatch(name.removeprefix("@")) is not None


async def identity_named(conn: AsyncConnection, name: str, *, local_host: str | None = None) -> int | None:
    """The identity row ``name`` names: a username of an active account here, a short DID
    that only one identity starts with, a whole DID or actor IRI, or a remote actor held
    here by its ``user@host`` (``@`` in front or not); None if none does. With
    ``local_host``, ``user@local_host`` names the account ``user``."""
    if is_did_weft(name) or is_actor_iri(name):
        return await people.identity_id_of(conn, name)
    name = name.removeprefix("@")
    user, at, host = name.partition("@")
    if at:
        if local_host is not None and host.lower() == local_host.lower():
            name = user
        elif is_remote_handle(name):
            return await people.remote_identity_by_handle(conn, name)
        else:
            return None
    row = await account_by(conn, username=name) if name else None
    if row is not None:
        return row.identity if row.state == "active" else None
    if _SHORT_DID.fullmatch(name):
        found = await people.identity_ids_with_prefix(conn, DID_PREFIX + name)
        if len(found) == 1:
            return found[0]
    return None
