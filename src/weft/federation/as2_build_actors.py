"""Actor documents (Person, Service) and ordered collections, as Mastodon serves them.

Mastodon's ActorSerializer (app/serializers/activitypub/actor_serializer.rb) is the shape:
inbox, outbox, followers, following, featured, ``endpoints.sharedInbox``, ``publicKey``
(id ``<actor>#main-key``, owner, PEM), icon and image, profile fields as PropertyValue
attachments, ``alsoKnownAs``, ``movedTo``, ``manuallyApprovesFollowers``, ``discoverable``.
Collections follow ActivityPub §5 and Mastodon's outbox and followers serializers: the
collection with its count and a link to its first page; pages with ``orderedItems``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from weft.federation.as2_build import CONTEXT, xsd_datetime
from weft.federation.remote_objects_parts import Media

__all__ = ["ActorFields", "actor", "ordered_collection", "ordered_collection_page", "person", "service"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorFields:
    """What an actor document says; every IRI is absolute, ``public_key_pem`` is the RSA
    public key in PEM (SubjectPublicKeyInfo), ``summary`` is HTML."""

    id: str
    username: str
    inbox: str
    outbox: str
    followers: str
    following: str
    public_key_pem: str
    shared_inbox: str | None = None
    featured: str | None = None
    featured_tags: str | None = None
    name: str | None = None
    summary: str | None = None
    url: str | None = None
    icon: Media | None = None
    image: Media | None = None
    fields: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (name, value HTML)
    also_known_as: Sequence[str] = field(default_factory=tuple)
    moved_to: str | None = None
    manually_approves_followers: bool = False
    discoverable: bool = False
    published: datetime | None = None

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"


def _image(media: Media | None) -> dict[str, Any] | None:
    if media is None:
        return None
    return {key: value for key, value in {"type": "Image", "mediaType": media.mime, "url": media.url,
                                          "width": media.width, "height": media.height}.items()
            if value is not None}


def actor(kind: Literal["Person", "Service", "Application", "Group"], fields: ActorFields) -> dict[str, Any]:
    """The actor document of ``fields`` as ``kind``."""
    body = {
        "id": fields.id, "type": kind, "preferredUsername": fields.username, "name": fields.name,
        "summary": fields.summary, "url": fields.url, "inbox": fields.inbox, "outbox": fields.outbox,
        "followers": fields.followers, "following": fields.following, "featured": fields.featured,
        "featuredTags": fields.featured_tags,
        "endpoints": {"sharedInbox": fields.shared_inbox} if fields.shared_inbox else None,
        "publicKey": {"id": fields.key_id, "owner": fields.id, "publicKeyPem": fields.public_key_pem},
        "icon": _image(fields.icon), "image": _image(fields.image),
        "attachment": [{"type": "PropertyValue", "name": name, "value": value} for name, value in fields.fields],
        "alsoKnownAs": list(fields.also_known_as) or None, "movedTo": fields.moved_to,
        "manuallyApprovesFollowers": fields.manually_approves_followers,
        "discoverable": fields.discoverable,
        "published": xsd_datetime(fields.published) if fields.published else None,
    }
    return {"@context": CONTEXT, **{key: value for key, value in body.items() if value is not None}}


def person(fields: ActorFields) -> dict[str, Any]:
    """A hosted identity's actor."""
    return actor("Person", fields)


def service(fields: ActorFields) -> dict[str, Any]:
    """An automated actor: a bot account, or the node's own actor that signs fetches."""
    return actor("Service", fields)


def ordered_collection(*, id: str, total_items: int, first: str | None = None, last: str | None = None,
                       items: Sequence[dict[str, Any] | str] | None = None) -> dict[str, Any]:
    """An OrderedCollection: its count and first/last pages, or (small ones, like featured
    posts) its items inline."""
    body: dict[str, Any] = {"@context": CONTEXT, "id": id, "type": "OrderedCollection", "totalItems": total_items}
    if first is not None:
        body["first"] = first
    if last is not None:
        body["last"] = last
    if items is not None:
        body["orderedItems"] = [_embedded(item) for item in items]
    return body


def ordered_collection_page(*, id: str, part_of: str, items: Sequence[dict[str, Any] | str],
                            next: str | None = None, prev: str | None = None,
                            total_items: int | None = None) -> dict[str, Any]:
    """One page of an OrderedCollection, newest first as Mastodon pages its outbox."""
    body: dict[str, Any] = {"@context": CONTEXT, "id": id, "type": "OrderedCollectionPage", "partOf": part_of}
    if total_items is not None:
        body["totalItems"] = total_items
    if next is not None:
        body["next"] = next
    if prev is not None:
        body["prev"] = prev
    body["orderedItems"] = [_embedded(item) for item in items]
    return body


def _embedded(item: dict[str, Any] | str) -> dict[str, Any] | str:
    return item if isinstance(item, str) else {key: value for key, value in item.items() if key != "@context"}
