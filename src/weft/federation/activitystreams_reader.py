"""Reading an Activity Streams 2.0 document into typed values (:mod:`activitystreams_model`).

We read the JSON-LD *compacted* form that servers send (AS2 core §2.1, §4), not arbitrary
JSON-LD: properties by the names the AS2 context and Mastodon's extension context give them,
a value single or in an array, an IRI or an embedded object. Properties we do not know are
left out unread (extensions are the norm: ``atomUri``, PeerTube's ``uuid``...).

What is refused (each with the property's path in the message):
- an ``@context`` that names something other than the AS2 context at the top of a document
  (absent is fine: AS2 core §2.1.1 says to assume it), or that is not an IRI/object/array;
- a ``type`` that is not a string or an array of strings; a number, boolean or nested array
  where an IRI or object belongs; relative IRIs for ``id``, ``url``, ``href`` and the like;
- language maps that are not objects of strings, or whose keys are not BCP 47 tags;
- an OrderedCollection(Page) with ``items``, a Collection(Page) with ``orderedItems``, and
  ``first``/``last``/``current``/``next``/``prev`` that are neither a page nor a link;
- bytes that are not UTF-8 JSON, or a top that is not an object;
- more than :data:`MAX_DEPTH` nested objects, :data:`MAX_NODES` values, or
  :data:`MAX_DOCUMENT_BYTES` bytes, so that a hostile document costs bounded time and memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import orjson

from weft.federation.activitystreams_addressing import PUBLIC, PUBLIC_SPELLINGS
from weft.federation.activitystreams_model import ASObject, Link, PublicKey, Ref, object_of
from weft.federation.activitystreams_terms import (
    AS2_CONTEXTS,
    capped,
    join_path,
    read_blurhash,
    read_context,
    read_focal_point,
    read_language_map,
    read_natural,
    read_rel,
    read_types,
    read_units,
)
from weft.federation.activitystreams_values import (
    ActivityStreamsError,
    read_bool,
    read_datetime,
    read_duration,
    read_float,
    read_iri,
    read_language,
    read_media_type,
    read_non_negative,
    read_string,
    what,
)

__all__ = ["AS2_CONTEXTS", "MAX_DEPTH", "MAX_DOCUMENT_BYTES", "MAX_NODES", "decode_json", "parse_json"]

MAX_DOCUMENT_BYTES: Final = 1 << 20
MAX_DEPTH: Final = 32
MAX_NODES: Final = 10_000

_LINK_TYPES: Final = frozenset({"Link", "Mention", "Hashtag"})
_PAGE_TYPES: Final = frozenset({"CollectionPage", "OrderedCollectionPage"})
_ORDERED_TYPES: Final = frozenset({"OrderedCollection", "OrderedCollectionPage"})
_UNORDERED_TYPES: Final = frozenset({"Collection", "CollectionPage"})
_NATURAL: Final = {"name": "name_map", "summary": "summary_map", "content": "content_map"}
_MAPS: Final = frozenset({"name_map", "summary_map", "content_map"})


def decode_json(raw: bytes | str, *, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """The JSON value in ``raw`` (UTF-8), refusing more than ``limit`` bytes.

    orjson reads what is strict RFC 8259; what it refuses is read again by the standard
    library, which also takes raw control characters inside strings (the AS2 test corpus
    has a document with line breaks in a string) and then must not yield lone surrogates."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > limit:
        raise ActivityStreamsError(f"document: larger than {limit} bytes")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ActivityStreamsError(f"document: not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, strict=False, parse_constant=_no_constant)
        orjson.dumps(value)  # refuses lone surrogates, which \ud800 escapes can make
    except (ValueError, RecursionError, TypeError) as exc:
        raise ActivityStreamsError(f"document: not JSON ({str(exc)[:120]})") from None
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(value: Any) -> ASObject | Link:
    """The object (or link) that a decoded JSON document describes."""
    if not isinstance(value, dict):
        raise ActivityStreamsError(f"document: must be a JSON object, not {what(value)}")
    return _Reader().node(value, "", 0, None, top=True)


Handler = Callable[["_Reader", Any, str, int, "str | None"], object]


def _too_many(path: str) -> ActivityStreamsError:
    return ActivityStreamsError(f"{path or 'document'}: more than {MAX_NODES} values in one document")


def _plain(read: Callable[[Any, str], object]) -> Handler:
    return lambda _reader, value, path, _depth, _language: read(value, path)


class _Reader:
    """One document's walk; it counts the values read to bound the work."""

    __slots__ = ("_nodes",)

    def __init__(self) -> None:
        self._nodes = 0

    def _count(self, path: str) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _too_many(path)

    def node(self, data: dict[str, Any], path: str, depth: int, language: str | None,
             *, top: bool = False) -> ASObject | Link:
        if depth > MAX_DEPTH:
            raise ActivityStreamsError(f"{path}: objects nested more than {MAX_DEPTH} deep")
        self._count(path)
        if "@context" in data:
            language = read_context(data["@context"], join_path(path, "@context"), language, top=top)
        types = read_types(data.get("type"), join_path(path, "type"))
        if not _LINK_TYPES.isdisjoint(types) or (not types and "href" in data):
            return self._link(data, path, types, depth, language)
        return self._object(data, path, types, depth, language)

    def _fields(self, data: dict[str, Any], path: str, depth: int, language: str | None,
                table: dict[str, tuple[str, Handler]]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        prefix = join_path(path, "")   # each key's path is prefix + key, as join_path makes it
        for key, value in data.items():
            spec = table.get(key)
            if spec is None or value is None:
                continue
            attribute, handler = spec
            result = handler(self, value, prefix + key, depth, language)
            if key in _NATURAL and isinstance(result, tuple):
                attribute = _NATURAL[key]
            if attribute in _MAPS:
                fields[attribute] = fields.get(attribute, ()) + result
            elif result is not None:
                fields[attribute] = result
        return fields

    def _link(self, data: dict[str, Any], path: str, types: tuple[str, ...], depth: int,
              language: str | None) -> Link:
        fields = self._fields(data, path, depth, language, _LINK_PROPERTIES)
        if "href" not in fields and "Hashtag" not in types:
            raise ActivityStreamsError(f"{join_path(path, 'href')}: a link needs an href")
        return Link(types=types or ("Link",), **fields)

    def _object(self, data: dict[str, Any], path: str, types: tuple[str, ...], depth: int,
                language: str | None) -> ASObject:
        fields = self._fields(data, path, depth, language, _OBJECT_PROPERTIES)
        kinds = set(types)
        if data.get("items") is not None:
            if kinds & _ORDERED_TYPES:
                raise ActivityStreamsError(
                    f"{join_path(path, 'items')}: an ordered collection lists its items in orderedItems")
            if data.get("orderedItems") is not None:
                raise ActivityStreamsError(f"{join_path(path, 'items')}: both items and orderedItems")
        if data.get("orderedItems") is not None:
            if kinds & _UNORDERED_TYPES and not kinds & _ORDERED_TYPES:
                raise ActivityStreamsError(
                    f"{join_path(path, 'orderedItems')}: an unordered collection lists its items in items")
            fields["ordered"] = True
        return object_of({**fields, "types": types, "language": language})

    def refs(self, value: Any, path: str, depth: int, language: str | None) -> tuple[Ref, ...]:
        if not isinstance(value, list):
            return (self.ref(value, path, depth, language),)
        return tuple([self.ref(item, f"{path}[{i}]", depth, language)
                      for i, item in enumerate(value) if item is not None])

    def ref(self, value: Any, path: str, depth: int, language: str | None) -> Ref:
        if isinstance(value, str):
            self._nodes += 1   # _count, inline: most values are IRIs
            if self._nodes > MAX_NODES:
                raise _too_many(path)
            # The public collection's compacted spellings, one of them no IRI at all.
            return PUBLIC if value in PUBLIC_SPELLINGS else read_iri(value, path)
        if isinstance(value, dict):
            return self.node(value, path, depth + 1, language)
        raise ActivityStreamsError(f"{path}: must be an IRI or an object, not {what(value)}")

    def single(self, value: Any, path: str, depth: int, language: str | None) -> Ref:
        if isinstance(value, list):
            raise ActivityStreamsError(f"{path}: takes one value, not an array")
        return self.ref(value, path, depth, language)

    def page(self, value: Any, path: str, depth: int, language: str | None) -> Ref:
        ref = self.single(value, path, depth, language)
        if isinstance(ref, ASObject) and not _PAGE_TYPES.intersection(ref.types):
            kind = "/".join(ref.types) or "an untyped object"
            raise ActivityStreamsError(f"{path}: must be a collection page or a link, not {kind}")
        return ref

    def iri(self, value: Any, path: str, depth: int, language: str | None) -> str:
        """An IRI-valued property (an inbox, a followers collection): the IRI, or the id of
        the object given in its place."""
        if isinstance(value, dict):
            value = value.get("id")
            path = join_path(path, "id")
        self._count(path)
        return read_iri(value, path)

    def iris(self, value: Any, path: str, depth: int, language: str | None) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        return tuple(self.iri(item, f"{path}[{i}]", depth, language)
                     for i, item in enumerate(items) if item is not None)

    def public_keys(self, value: Any, path: str, depth: int, language: str | None) -> tuple[PublicKey, ...]:
        items = value if isinstance(value, list) else [value]
        keys = []
        for i, item in enumerate(capped(items, 16, path)):
            where = f"{path}[{i}]" if isinstance(value, list) else path
            if isinstance(item, str):
                keys.append(PublicKey(id=read_iri(item, where)))
            elif isinstance(item, dict):
                owner, pem = item.get("owner"), item.get("publicKeyPem")
                keys.append(PublicKey(
                    id=read_iri(item.get("id"), f"{where}.id"),
                    owner=None if owner is None else self.iri(owner, f"{where}.owner", depth, language),
                    pem=None if pem is None else read_string(pem, f"{where}.publicKeyPem", limit=16_384)))
            elif item is not None:
                raise ActivityStreamsError(f"{where}: a public key is an object, not {what(item)}")
        return tuple(keys)

    def endpoints(self, value: Any, path: str, depth: int, language: str | None) -> str | None:
        if isinstance(value, str):  # ActivityPub allows a link to the endpoints instead
            return None
        if not isinstance(value, dict):
            raise ActivityStreamsError(f"{path}: must be an object, not {what(value)}")
        shared = value.get("sharedInbox")
        return None if shared is None else self.iri(shared, f"{path}.sharedInbox", depth, language)

    def closed(self, value: Any, path: str, depth: int, language: str | None) -> object:
        """Question.closed: when (a date), whether (a boolean), or by what (an object or
        link, which we keep only as "closed")."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return read_datetime(value, path)
            except ActivityStreamsError:
                read_iri(value, path)
                return True
        self.single(value, path, depth, language)
        return True


_REFS: Final[Handler] = _Reader.refs
_SINGLE: Final[Handler] = _Reader.single
_PAGE: Final[Handler] = _Reader.page
_IRI: Final[Handler] = _Reader.iri
_TEXT: Final = _plain(read_string)
_COUNT: Final = _plain(read_non_negative)
_FLOAT: Final = _plain(read_float)
_BOOL: Final = _plain(read_bool)
_DATE: Final = _plain(read_datetime)

_LINK_PROPERTIES: Final[dict[str, tuple[str, Handler]]] = {
    "href": ("href", _plain(read_iri)),
    "id": ("id", _plain(read_iri)),
    "name": ("name", _plain(read_natural)),
    "nameMap": ("name_map", _plain(read_language_map)),
    "mediaType": ("media_type", _plain(read_media_type)),
    "rel": ("rel", _plain(read_rel)),
    "hreflang": ("hreflang", _plain(read_language)),
    "width": ("width", _COUNT),
    "height": ("height", _COUNT),
}

_OBJECT_PROPERTIES: Final[dict[str, tuple[str, Handler]]] = {
    "id": ("id", _plain(read_iri)),
    "name": ("name", _plain(read_natural)),
    "nameMap": ("name_map", _plain(read_language_map)),
    "summary": ("summary", _plain(read_natural)),
    "summaryMap": ("summary_map", _plain(read_language_map)),
    "content": ("content", _plain(read_natural)),
    "contentMap": ("content_map", _plain(read_language_map)),
    "mediaType": ("media_type", _plain(read_media_type)),
    "duration": ("duration", _plain(read_duration)),
    **{key: (attribute, _REFS) for key, attribute in (
        ("url", "url"), ("attributedTo", "attributed_to"), ("actor", "actor"), ("object", "object"),
        ("target", "target"), ("origin", "origin"), ("result", "result"), ("instrument", "instrument"),
        ("to", "to"), ("cc", "cc"), ("bto", "bto"), ("bcc", "bcc"), ("audience", "audience"),
        ("inReplyTo", "in_reply_to"), ("attachment", "attachment"), ("tag", "tag"), ("icon", "icon"),
        ("image", "image"), ("location", "location"), ("preview", "preview"),
        ("generator", "generator"), ("context", "context"), ("items", "items"),
        ("orderedItems", "items"), ("oneOf", "one_of"), ("anyOf", "any_of"))},
    **{key: (attribute, _DATE) for key, attribute in (
        ("published", "published"), ("updated", "updated"), ("startTime", "start_time"),
        ("endTime", "end_time"), ("deleted", "deleted"))},
    **{key: (attribute, _SINGLE) for key, attribute in (
        ("replies", "replies"), ("likes", "likes"), ("shares", "shares"), ("subject", "subject"),
        ("describes", "describes"), ("partOf", "part_of"))},
    **{key: (key, _PAGE) for key in ("first", "last", "current", "next", "prev")},
    **{key: (attribute, _IRI) for key, attribute in (
        ("inbox", "inbox"), ("outbox", "outbox"), ("followers", "followers"),
        ("following", "following"), ("liked", "liked"), ("featured", "featured"),
        ("featuredTags", "featured_tags"), ("movedTo", "moved_to"))},
    **{key: (attribute, _COUNT) for key, attribute in (
        ("totalItems", "total_items"), ("startIndex", "start_index"), ("width", "width"),
        ("height", "height"), ("votersCount", "voters_count"))},
    **{key: (key, _FLOAT) for key in ("latitude", "longitude", "altitude", "radius", "accuracy")},
    **{key: (attribute, _BOOL) for key, attribute in (
        ("sensitive", "sensitive"), ("manuallyApprovesFollowers", "manually_approves_followers"),
        ("discoverable", "discoverable"))},
    "formerType": ("former_type", _plain(read_types)),
    "closed": ("closed", _Reader.closed),
    "units": ("units", _plain(read_units)),
    "blurhash": ("blurhash", _plain(read_blurhash)),
    "focalPoint": ("focal_point", _plain(read_focal_point)),
    "preferredUsername": ("preferred_username", _plain(lambda v, p: read_string(v, p, limit=1024))),
    "endpoints": ("shared_inbox", _Reader.endpoints),
    "publicKey": ("public_keys", _Reader.public_keys),
    "alsoKnownAs": ("also_known_as", _Reader.iris),
    "value": ("value", _TEXT),
}
