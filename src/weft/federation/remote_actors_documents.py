"""What a remote actor document says, read without I/O: the facts the ``remote_actors``
table keeps, and the ``profile`` content a remote person's page shows.

The profile follows Mastodon's reading of actors (app/services/activitypub/
process_account_service.rb): ``name``; ``summary`` HTML as the bio (sanitized, and as
plain text); the widest ``icon`` and ``image`` as avatar and header; ``PropertyValue``
attachments as fields (plain text, as weft's own fields are); ``manuallyApprovesFollowers``
as locked; Service and Application actors as bots. Lengths are cut to what weft content
allows rather than refused: a long remote bio is still someone's bio.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from weft.core.encoding import canonical
from weft.core.html import html_to_text, sanitize_html
from weft.core.ids import MAX_IRI_CHARS, is_actor_iri
from weft.federation.activitystreams import ActivityStreamsError, ASObject, parse_object
from weft.federation.remote_objects_parts import media_of

__all__ = ["ACTOR_TYPES", "ActorFacts", "actor_facts", "also_known_as", "profile_content", "profile_origin",
           "same_host"]

ACTOR_TYPES: Final = ("Person", "Service", "Application", "Group", "Organization")
_BOTS: Final = ("Service", "Application")
_MAX_FIELDS: Final = 16


@dataclass(frozen=True)
class ActorFacts:
    """What the store keeps of an actor document besides the document itself."""

    iri: str
    host: str
    kind: str
    username: str | None
    inbox: str
    shared_inbox: str | None
    followers: str | None
    key_id: str | None
    public_key_pem: str | None
    moved_to: str | None


def same_host(a: str, b: str) -> bool:
    """Whether two URLs are on one host (and port): who may speak for whom."""
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


def actor_facts(obj: ASObject) -> ActorFacts:
    """The facts of an actor document; ActivityStreamsError unless it is an actor with an id
    and an inbox on its own host."""
    kind = next((name for name in ACTOR_TYPES if obj.has_type(name)), None)
    if kind is None:
        raise ActivityStreamsError(f"type: {'/'.join(obj.types) or 'untyped'} is not an actor")
    if obj.id is None or obj.inbox is None:
        raise ActivityStreamsError("an actor needs an id and an inbox")
    key = next((key for key in obj.public_keys if key.pem and key.owner in (None, obj.id)), None)
    return ActorFacts(
        iri=obj.id, host=urlsplit(obj.id).netloc.lower(), kind=kind, username=obj.preferred_username,
        inbox=obj.inbox, shared_inbox=obj.shared_inbox, followers=obj.followers,
        key_id=key.id if key else None, public_key_pem=key.pem if key else None, moved_to=obj.moved_to)


def also_known_as(document: bytes) -> tuple[str, ...]:
    """The accounts a stored actor document says it also is (``alsoKnownAs``, where Mastodon
    lists those it moved from); none when the document cannot be read."""
    try:
        return parse_object(document).also_known_as
    except ActivityStreamsError:
        return ()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _widest(refs: tuple[Any, ...]) -> str | None:
    pictures = [media for media in media_of(refs) if len(media.url) <= MAX_IRI_CHARS and is_actor_iri(media.url)]
    widest = max(pictures, key=lambda media: media.width or 0, default=None)
    return widest.url if widest else None


def profile_content(obj: ASObject) -> dict[str, Any]:
    """The ``profile`` content of an actor document (see the module docstring)."""
    content: dict[str, Any] = {"type": "profile"}
    name = (obj.name or "").strip()
    if name:
        content["name"] = _cut(name, 100)
    if obj.summary:
        bio_html = sanitize_html(obj.summary)
        if len(bio_html) <= 8000:
            content["bio_html"] = bio_html
        bio = html_to_text(bio_html)
        if bio:
            content["bio"] = _cut(bio, 2000)
    for key, refs in (("avatar", obj.icon), ("header", obj.image)):
        url = _widest(refs)
        if url is not None:
            content[key] = url
    fields: list[list[str]] = []
    for ref in obj.attachment:
        if isinstance(ref, ASObject) and ref.has_type("PropertyValue") and ref.name and len(fields) < _MAX_FIELDS:
            value = html_to_text(sanitize_html(ref.value or ""))
            fields.append([_cut(ref.name, 500), _cut(value, 500)])
    if fields:
        content["fields"] = fields
    content["locked"] = bool(obj.manually_approves_followers)
    content["bot"] = obj.has_type(*_BOTS)
    return content


def profile_origin(actor_iri: str, content: dict[str, Any]) -> str:
    """The origin a profile entry is filed under: the actor's IRI with ``#profile-`` and a
    hash of the profile, so that a changed profile is a new entry and an unchanged one,
    fetched again, a duplicate (one origin is held once)."""
    digest = hashlib.sha256(canonical(content)).hexdigest()[:24]
    return f"{actor_iri.partition('#')[0]}#profile-{digest}"
