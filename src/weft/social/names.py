"""What people are called on this site: handles, and finding a person by one.

Every face names people the same way, so that a link written by one works in another:

- an account this node hosts is its ``username`` (``/@alice``);
- any other identity (the node's operator, a peer-to-peer identity it holds or has heard
  of) is the **short form of its DID**: the first 16 characters of the base32 after
  ``did:weft:`` (80 bits, so two identities never share one in practice). They are
  lowercase letters and digits, valid as a Mastodon username, and never change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from weft.core.ids import DID_PREFIX, is_did_weft
from weft.store import people
from weft.store.accounts import account_by

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from weft.store.people import Person

__all__ = ["HANDLE_PATTERN", "SHORT_DID_CHARS", "handle_of", "identity_named", "short_did"]

SHORT_DID_CHARS: Final = 16
# A handle as it appears in a URL: a username (weft.accounts) or a short DID. Neither has a
# dot, so ``/@alice.rss`` is never a handle.
HANDLE_PATTERN: Final = r"[A-Za-z0-9_]{1,30}"
_SHORT_DID: Final = re.compile(rf"[a-z2-7]{{{SHORT_DID_CHARS}}}")


def short_did(did: str) -> str:
    """The stable short name of an identity not hosted here (see the module docstring)."""
    return did.removeprefix(DID_PREFIX)[:SHORT_DID_CHARS]


def handle_of(person: Person) -> str:
    """What ``person`` is called here: the account's username, else the DID's short form."""
    return person.username or short_did(person.did)


async def identity_named(conn: AsyncConnection, name: str) -> int | None:
    """The identity row ``name`` names: a username of an active account here, a short DID
    that only one identity starts with, or a whole DID; None if none does."""
    if is_did_weft(name):
        return await people.identity_id_of(conn, name)
    row = await account_by(conn, username=name) if name else None
    if row is not None:
        return row.identity if row.state == "active" else None
    if _SHORT_DID.fullmatch(name):
        found = await people.identity_ids_with_prefix(conn, DID_PREFIX + name)
        if len(found) == 1:
            return found[0]
    return None
