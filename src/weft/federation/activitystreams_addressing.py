"""Addressing (to/cc) and weft's visibility, both ways, as Mastodon reads and writes them.

Reading follows Mastodon's ``visibility_from_audience`` (app/lib/activitypub/activity/
create.rb): the public collection in ``to`` is public, in ``cc`` unlisted; the author's
followers collection addressed is followers-only; anything else is direct. We also count the
followers collection in ``cc`` (Mastodon looks at ``to`` alone), since a post delivered to
the followers is for them whichever field names them.

Writing follows Mastodon's TagManager#to/#cc: public is to Public, cc followers; unlisted is
to followers, cc Public; followers-only is to followers; direct is to the mentioned alone.
The mentioned are added to ``cc`` (to ``to`` for direct), so their servers deliver to them.
The public collection has three spellings (AS2 core §5.6.1 and JSON-LD compaction): the IRI,
``as:Public`` and ``Public``; we write the IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal, cast

from weft.core.content import VISIBILITIES
from weft.errors import UsageError

__all__ = ["PUBLIC", "PUBLIC_SPELLINGS", "Visibility", "addressing", "is_public", "visibility_of"]

PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_SPELLINGS: Final = frozenset({PUBLIC, "as:Public", "Public"})

Visibility = Literal["public", "unlisted", "followers", "direct"]


def is_public(iri: str) -> bool:
    """Whether ``iri`` names the public collection (everyone, signed in or not)."""
    return iri in PUBLIC_SPELLINGS


def visibility_of(to: Iterable[str], cc: Iterable[str], followers: str | None) -> Visibility:
    """The visibility a post addressed ``to`` and ``cc`` has, ``followers`` being its author's
    followers collection (from the actor document; None when unknown)."""
    to, cc = tuple(to), tuple(cc)
    if any(map(is_public, to)):
        return "public"
    if any(map(is_public, cc)):
        return "unlisted"
    if followers is not None and (followers in to or followers in cc):
        return "followers"
    return "direct"


def addressing(visibility: str, *, followers: str,
               mentioned: Sequence[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(to, cc)`` for a post of ``visibility`` whose author's followers collection is
    ``followers``, mentioning the actors ``mentioned``."""
    if visibility not in VISIBILITIES:
        raise UsageError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    people = tuple(dict.fromkeys(iri for iri in mentioned if iri != followers and not is_public(iri)))
    match cast(Visibility, visibility):
        case "public":
            return (PUBLIC,), (followers, *people)
        case "unlisted":
            return (followers,), (PUBLIC, *people)
        case "followers":
            return (followers,), people
        case "direct":
            return people, ()
