"""Activity Streams 2.0 documents, read into typed values: the one door for remote JSON.

Follows Activity Streams 2.0 Core (https://www.w3.org/TR/activitystreams-core/) and
Vocabulary (https://www.w3.org/TR/activitystreams-vocabulary/) in the JSON-LD compacted form
servers send, with ActivityPub's actor properties (https://www.w3.org/TR/activitypub/) and
the extensions Mastodon uses (https://docs.joinmastodon.org/spec/activitypub/). Pure: bytes
or decoded JSON in, frozen values out; nothing here reads a socket or the clock.

    document = parse_document(body)              # bytes from an inbox or a fetch
    if isinstance(document, ASObject) and document.has_type("Create"):
        ...

Anything malformed raises :class:`ActivityStreamsError`, whose message names the property
("object.tag[2].href: 'images/a.png' is not an absolute IRI"). The rules of what is refused
are in :mod:`weft.federation.activitystreams_reader`.
"""

from __future__ import annotations

from typing import Any

from weft.federation.activitystreams_model import (
    ASObject,
    LangMap,
    Link,
    PublicKey,
    Ref,
    iri_of,
    iris_of,
)
from weft.federation.activitystreams_reader import (
    AS2_CONTEXTS,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_NODES,
    decode_json,
    parse_json,
)
from weft.federation.activitystreams_values import ActivityStreamsError

__all__ = [
    "AS2_CONTEXTS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_NODES",
    "ASObject",
    "ActivityStreamsError",
    "LangMap",
    "Link",
    "PublicKey",
    "Ref",
    "iri_of",
    "iris_of",
    "parse_document",
    "parse_json",
    "parse_object",
]


def parse_document(raw: bytes | str, *, limit: int = MAX_DOCUMENT_BYTES) -> ASObject | Link:
    """The object or link a JSON document of at most ``limit`` bytes describes."""
    return parse_json(decode_json(raw, limit=limit))


def parse_object(raw: bytes | str | dict[str, Any], *, limit: int = MAX_DOCUMENT_BYTES) -> ASObject:
    """Like :func:`parse_document` (or :func:`parse_json` for a dict), refusing a document
    that is a bare Link: what an inbox or a fetch of an id returns is an object."""
    document = parse_json(raw) if isinstance(raw, dict) else parse_document(raw, limit=limit)
    if isinstance(document, Link):
        raise ActivityStreamsError("document: a Link, where an object was expected")
    return document
