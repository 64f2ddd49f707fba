"""Building the AS2 documents weft sends and serves: Notes and the activities around them.

Plain dicts, ready for orjson, in the shape Mastodon sends (its app/serializers/activitypub/
*), with the @context Mastodon uses: AS2, security v1 (``publicKey``), and the ``as:``,
``toot:`` and ``schema:`` terms Mastodon added (app/lib/activitypub/adapter.rb). Inputs are
plain values: IRIs, HTML, aware datetimes. Actor documents and collections are in
:mod:`weft.federation.as2_build_actors`.

A top-level document carries the @context; an object embedded in an activity does not (the
activity's applies), so the activity builders take an object dict and drop its @context.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from weft.errors import UsageError
from weft.federation.activitystreams_addressing import PUBLIC, addressing
from weft.federation.remote_objects_parts import Media, Mention

__all__ = [
    "CONTEXT",
    "accept",
    "announce",
    "block",
    "create",
    "delete",
    "flag",
    "follow",
    "like",
    "move",
    "note",
    "reject",
    "undo",
    "update",
    "xsd_datetime",
]

AS2: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_V1: Final = "https://w3id.org/security/v1"
CONTEXT: Final[list[Any]] = [AS2, SECURITY_V1, {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "toot": "http://joinmastodon.org/ns#",
    "Emoji": "toot:Emoji",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "votersCount": "toot:votersCount",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}]


def xsd_datetime(moment: datetime) -> str:
    """``moment`` as Mastodon writes times: UTC, to the second, with ``Z``."""
    if moment.tzinfo is None:
        raise UsageError("AS2 times must be aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(body: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **{key: value for key, value in body.items() if value is not None}}


def _embedded(obj: dict[str, Any] | str) -> dict[str, Any] | str:
    if isinstance(obj, str):
        return obj
    return {key: value for key, value in obj.items() if key != "@context"}


def _media(media: Media) -> dict[str, Any]:
    return {key: value for key, value in {
        "type": "Document", "mediaType": media.mime, "url": media.url, "name": media.alt,
        "blurhash": media.blurhash, "width": media.width, "height": media.height,
    }.items() if value is not None}


def note(*, id: str, author: str, followers: str, html: str, published: datetime, visibility: str,
         url: str | None = None, mentions: Sequence[Mention] = (), hashtags: Sequence[tuple[str, str]] = (),
         in_reply_to: str | None = None, summary: str | None = None, sensitive: bool = False,
         language: str | None = None, attachments: Sequence[Media] = (),
         updated: datetime | None = None) -> dict[str, Any]:
    """A Note from a weft post: ``html`` is its rendered text; ``hashtags`` are (name, href)
    pairs; the mentioned are addressed as :func:`addressing` says and tagged as Mentions."""
    to, cc = addressing(visibility, followers=followers, mentioned=[m.iri for m in mentions])
    tags: list[dict[str, Any]] = [{"type": "Mention", "href": m.iri, **({"name": m.name} if m.name else {})}
                                  for m in mentions]
    tags += [{"type": "Hashtag", "href": href, "name": "#" + name.lstrip("#")} for name, href in hashtags]
    return _document({
        "id": id, "type": "Note", "summary": summary or None, "inReplyTo": in_reply_to,
        "published": xsd_datetime(published), "updated": xsd_datetime(updated) if updated else None,
        "url": url, "attributedTo": author, "to": list(to), "cc": list(cc), "sensitive": sensitive,
        "content": html, "contentMap": {language: html} if language else None,
        "attachment": [_media(media) for media in attachments], "tag": tags,
    })


def create(*, id: str, actor: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Create of ``obj``, addressed and dated as the object is (as Mastodon does)."""
    return _document({"id": id, "type": "Create", "actor": actor, "published": obj.get("published"),
                      "to": obj.get("to"), "cc": obj.get("cc"), "object": _embedded(obj)})


def update(*, id: str, actor: str, obj: dict[str, Any], published: datetime) -> dict[str, Any]:
    """Update of ``obj`` (an edited Note, or an actor's profile: to Public when ``obj`` has
    no addressing of its own)."""
    to = obj.get("to", [PUBLIC])
    return _document({"id": id, "type": "Update", "actor": actor, "published": xsd_datetime(published),
                      "to": to, "cc": obj.get("cc"), "object": _embedded(obj)})


def delete(*, id: str, actor: str, object_id: str, to: Sequence[str] = (PUBLIC,),
           cc: Sequence[str] = ()) -> dict[str, Any]:
    """Delete of a post (sent as a Tombstone, Mastodon's way) or, when ``object_id`` is the
    actor itself, of the account."""
    gone: dict[str, Any] | str = object_id if object_id == actor else {"id": object_id, "type": "Tombstone"}
    return _document({"id": id, "type": "Delete", "actor": actor, "to": list(to), "cc": list(cc) or None,
                      "object": gone})


def _simple(kind: str, id: str, actor: str, obj: dict[str, Any] | str, **extra: Any) -> dict[str, Any]:
    return _document({"id": id, "type": kind, "actor": actor, "object": _embedded(obj), **extra})


def follow(*, id: str, actor: str, obj: str) -> dict[str, Any]:
    return _simple("Follow", id, actor, obj)


def accept(*, id: str, actor: str, follow: dict[str, Any] | str) -> dict[str, Any]:
    """Accept of a Follow (the activity itself, or its IRI)."""
    return _simple("Accept", id, actor, follow)


def reject(*, id: str, actor: str, follow: dict[str, Any] | str) -> dict[str, Any]:
    return _simple("Reject", id, actor, follow)


def undo(*, id: str, actor: str, obj: dict[str, Any] | str) -> dict[str, Any]:
    """Undo of an earlier activity (a Follow, Like, Announce or Block), given whole."""
    return _simple("Undo", id, actor, obj)


def like(*, id: str, actor: str, obj: str) -> dict[str, Any]:
    return _simple("Like", id, actor, obj)


def announce(*, id: str, actor: str, obj: str, published: datetime, visibility: str, followers: str,
             author: str | None = None) -> dict[str, Any]:
    """A boost of the post ``obj`` by ``author``, addressed as a post of ``visibility``
    (the boosted author in ``cc``, as Mastodon does)."""
    to, cc = addressing(visibility, followers=followers, mentioned=[author] if author else [])
    return _simple("Announce", id, actor, obj, published=xsd_datetime(published), to=list(to), cc=list(cc))


def block(*, id: str, actor: str, obj: str) -> dict[str, Any]:
    return _simple("Block", id, actor, obj)


def flag(*, id: str, actor: str, objects: Sequence[str], content: str = "") -> dict[str, Any]:
    """A report: ``objects`` are the reported account and, after it, the posts; ``actor`` is
    the reporting server's instance actor (Mastodon does not say who reported)."""
    if not objects:
        raise UsageError("a Flag names at least the reported account")
    return _document({"id": id, "type": "Flag", "actor": actor, "content": content,
                      "object": list(objects)})


def move(*, id: str, actor: str, target: str, followers: str) -> dict[str, Any]:
    """The account ``actor`` moves to ``target`` (which must list it in alsoKnownAs)."""
    return _document({"id": id, "type": "Move", "actor": actor, "object": actor, "target": target,
                      "to": [followers]})
