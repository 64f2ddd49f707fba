"""The typed, normalized values a parsed Activity Streams 2.0 document becomes.

One class serves every object type, because AS2 types are open and combine (``["Note",
"Event"]`` is one object): a property a type does not use is simply empty. Normalized means:
- a property given once or as an array is a tuple; absent and ``null`` are both ``()``/None;
- a value is a :data:`Ref`: an IRI (``str``), a :class:`Link` or an embedded :class:`ASObject`;
- the public collection is its IRI, however written (``as:Public``, ``Public``);
- type names in the AS2 namespace lose their prefix (``as:Note`` and
  ``https://www.w3.org/ns/activitystreams#Note`` are ``Note``); other types stay as written;
- language maps are tuples of (tag, text) pairs in document order;
- dates are aware datetimes in UTC.

Property names follow the vocabulary (https://www.w3.org/TR/activitystreams-vocabulary/),
ActivityPub (https://www.w3.org/TR/activitypub/) and Mastodon's extensions
(https://docs.joinmastodon.org/spec/activitypub/), in snake_case.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final, TypeAlias

__all__ = ["ASObject", "LangMap", "Link", "PublicKey", "Ref", "iri_of", "iris_of", "object_of"]

LangMap: TypeAlias = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A Link (or Mention, Hashtag): a reference with something said about it."""

    href: str | None = None  # only a Hashtag may lack one (PeerTube sends them so)
    types: tuple[str, ...] = ("Link",)
    id: str | None = None
    name: str | None = None
    name_map: LangMap = ()
    media_type: str | None = None
    rel: tuple[str, ...] = ()
    hreflang: str | None = None
    width: int | None = None
    height: int | None = None

    def has_type(self, *names: str) -> bool:
        """Whether this link has one of the named types."""
        return any(map(self.types.__contains__, names))   # no generator: the mapping asks this often


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """An actor's RSA key as Mastodon publishes it (security vocabulary v1)."""

    id: str
    owner: str | None = None
    pem: str | None = None


@dataclass(frozen=True, kw_only=True)   # no slots, so that the defaults stay on the class: see object_of
class ASObject:
    """An object, activity, actor or collection."""

    types: tuple[str, ...] = ()
    id: str | None = None
    language: str | None = None  # the @language of the document's @context
    name: str | None = None
    name_map: LangMap = ()
    summary: str | None = None
    summary_map: LangMap = ()
    content: str | None = None
    content_map: LangMap = ()
    media_type: str | None = None
    duration: str | None = None
    url: tuple[Ref, ...] = ()
    attributed_to: tuple[Ref, ...] = ()
    # Activities.
    actor: tuple[Ref, ...] = ()
    object: tuple[Ref, ...] = ()
    target: tuple[Ref, ...] = ()
    origin: tuple[Ref, ...] = ()
    result: tuple[Ref, ...] = ()
    instrument: tuple[Ref, ...] = ()
    # Addressing.
    to: tuple[Ref, ...] = ()
    cc: tuple[Ref, ...] = ()
    bto: tuple[Ref, ...] = ()
    bcc: tuple[Ref, ...] = ()
    audience: tuple[Ref, ...] = ()
    # Time.
    published: datetime | None = None
    updated: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    deleted: datetime | None = None
    # Relations to other objects.
    in_reply_to: tuple[Ref, ...] = ()
    attachment: tuple[Ref, ...] = ()
    tag: tuple[Ref, ...] = ()
    icon: tuple[Ref, ...] = ()
    image: tuple[Ref, ...] = ()
    location: tuple[Ref, ...] = ()
    preview: tuple[Ref, ...] = ()
    generator: tuple[Ref, ...] = ()
    context: tuple[Ref, ...] = ()
    replies: Ref | None = None
    likes: Ref | None = None
    shares: Ref | None = None
    subject: Ref | None = None
    describes: Ref | None = None
    former_type: tuple[str, ...] = ()
    # Collections.
    total_items: int | None = None
    items: tuple[Ref, ...] = ()
    ordered: bool = False  # the items came as orderedItems
    first: Ref | None = None
    last: Ref | None = None
    current: Ref | None = None
    next: Ref | None = None
    prev: Ref | None = None
    part_of: Ref | None = None
    start_index: int | None = None
    # Questions.
    one_of: tuple[Ref, ...] = ()
    any_of: tuple[Ref, ...] = ()
    closed: datetime | bool | None = None
    voters_count: int | None = None
    # Places and images.
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    radius: float | None = None
    accuracy: float | None = None
    units: str | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    focal_point: tuple[float, float] | None = None
    # Actors (ActivityPub and Mastodon).
    preferred_username: str | None = None
    inbox: str | None = None
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    liked: str | None = None
    featured: str | None = None
    featured_tags: str | None = None
    shared_inbox: str | None = None
    public_keys: tuple[PublicKey, ...] = ()
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    manually_approves_followers: bool | None = None
    discoverable: bool | None = None
    # Mastodon's per-object extensions.
    sensitive: bool | None = None
    value: str | None = None  # schema:value of a PropertyValue (profile field)

    def has_type(self, *names: str) -> bool:
        """Whether this object has one of the named types."""
        return any(map(self.types.__contains__, names))   # no generator: the mapping asks this often


Ref: TypeAlias = str | Link | ASObject

_OBJECT_FIELDS: Final = frozenset(field.name for field in fields(ASObject))


def object_of(values: dict[str, Any]) -> ASObject:
    """``ASObject(**values)``, made as the reader needs it. A document sets a dozen of the 84
    fields, and __init__ sets every one (it was a fifth of parsing a Create): here only those
    given are set on the instance, and the others are the class's defaults, which a
    dataclass without slots keeps as class attributes."""
    unknown = values.keys() - _OBJECT_FIELDS
    if unknown:
        raise TypeError(f"ASObject has no fields {sorted(unknown)}")
    made = object.__new__(ASObject)
    made.__dict__.update(values)
    return made


def iri_of(ref: Ref | None) -> str | None:
    """The IRI a reference points at: itself, a link's href, or an embedded object's id."""
    if ref is None or isinstance(ref, str):
        return ref
    if isinstance(ref, Link):
        return ref.href
    return ref.id


def iris_of(refs: tuple[Ref, ...]) -> tuple[str, ...]:
    """The IRIs of ``refs`` in order, leaving out those that have none."""
    return tuple([iri for iri in map(iri_of, refs) if iri is not None])
