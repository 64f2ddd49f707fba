"""The OpenAPI 3.1 document of the native JSON API, written out as data, served at
``/api/openapi.json``.

Written by hand rather than generated: the handlers return plain dicts, so no framework
could say what they hold. Two tests keep it honest (tests/api/test_openapi.py): every
native route is in the document and every operation in it is a route, and a real node's
answers to every documented operation, errors included, validate against these schemas.

Not described here: the Mastodon client API (``/api/v1``, ``/api/v2``, ``/oauth``), which
follows Mastodon's own documentation, and ``/api/gossip``, a WebSocket carrying the
secret handshake and muxrpc (docs/protocol/transport.md), which OpenAPI cannot describe.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from weft import __version__
from weft.api.native import MAX_FEED_LIMIT, MAX_LOG_LIMIT
from weft.core.content import (
    FOLLOW_ANSWER_TYPES,
    MAX_ALIASES,
    MAX_ALT_CHARS,
    MAX_ATTACHMENTS,
    MAX_LIST,
    MAX_TEXT_CHARS,
    RELATION_TYPES,
    TARGET_ENTRY_TYPES,
    VISIBILITIES,
)
from weft.core.encoding import MAX_SAFE_INT
from weft.core.ids import MAX_IRI_CHARS

__all__ = ["OPENAPI_PATH", "ROUTES", "document"]

OPENAPI_PATH: Final = "/api/openapi.json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), description: str = "") -> Schema:
    """A closed object: every property required unless named in ``optional``, no others."""
    schema: Schema = {"type": "object", "properties": properties,
                      "required": [name for name in properties if name not in optional],
                      "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def _text(limit: int) -> Schema:
    return {"type": "string", "maxLength": limit}


def _count() -> Schema:
    return {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INT}


def _list(items: Schema, limit: int = MAX_LIST) -> Schema:
    return {"type": "array", "items": items, "maxItems": limit}


_MS: Final[Schema] = {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INT,
                      "description": "milliseconds since the Unix epoch"}
_B64URL: Final[Schema] = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$",
                          "description": "binary as base64url without padding"}
_SHA256_HEX: Final[Schema] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_VISIBILITY: Final[Schema] = {"type": "string", "enum": list(VISIBILITIES)}


def _content_type(name: str, properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    return {"type": "object", "required": ["type", *required], "additionalProperties": False,
            "properties": {"type": {"const": name}, **properties}}


_RELATION_TYPES: Final = (*RELATION_TYPES, *FOLLOW_ANSWER_TYPES)


def _content_schemas() -> dict[str, Schema]:
    """Entry contents: the known types as weft.core.content validates them; any other type
    is stored and passed on, so a content is any object with a string ``type``."""
    attachment = _object({
        "blob": _SHA256_HEX, "mime": _text(100), "alt": _text(MAX_ALT_CHARS),
        "width": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "height": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "blurhash": _text(100), "thumb": _SHA256_HEX,
    }, optional=("mime", "alt", "width", "height", "blurhash", "thumb"))
    schemas = {
        "PostContent": _content_type("post", {
            "text": _text(MAX_TEXT_CHARS), "reply_to": _ref("EntryId"), "root": _ref("EntryId"),
            "mentions": _list(_ref("Did")), "tags": _list(_text(200)), "visibility": _VISIBILITY,
            "summary": _text(500), "sensitive": {"type": "boolean"},
            "attachments": _list({"oneOf": [_text(200), attachment]}, MAX_ATTACHMENTS),
            "board": _text(200), "lang": _text(16)}, ("text",)),
        "EditContent": _content_type("edit", {
            "target": _ref("EntryId"), "text": _text(MAX_TEXT_CHARS), "summary": _text(500),
            "sensitive": {"type": "boolean"}}, ("target", "text")),
        "ProfileContent": _content_type("profile", {
            "name": _text(100), "bio": _text(2000), "avatar": _text(200), "header": _text(200),
            "fields": _list({"type": "array", "prefixItems": [_text(500), _text(500)],
                             "minItems": 2, "maxItems": 2}, 16),
            "locked": {"type": "boolean"}, "bot": {"type": "boolean"},
            "aliases": {**_list({"type": "string", "pattern": "^https?://", "maxLength": MAX_IRI_CHARS},
                                MAX_ALIASES), "uniqueItems": True,
                        "description": "actors the identity moves from, served as alsoKnownAs"}}),
        "MoveContent": _content_type("move", {"target": _ref("Did")}, ("target",)),
        "TargetEntryContent": {"type": "object", "required": ["type", "target"], "additionalProperties": False,
                               "properties": {"type": {"enum": list(TARGET_ENTRY_TYPES)},
                                              "target": _ref("EntryId")}},
        "RelationContent": {"type": "object", "required": ["type", "target"], "additionalProperties": False,
                            "properties": {"type": {"enum": list(_RELATION_TYPES)}, "target": _ref("Did")}},
    }
    schema_of = {"post": "PostContent", "edit": "EditContent", "profile": "ProfileContent", "move": "MoveContent",
                 **dict.fromkeys(TARGET_ENTRY_TYPES, "TargetEntryContent"),
                 **dict.fromkeys(_RELATION_TYPES, "RelationContent")}
    schemas["Content"] = {
        "type": "object", "required": ["type"], "properties": {"type": {"type": "string"}},
        "description": "An entry's content. Known types are checked as shown; other types "
                       "are stored and passed on unchecked.",
        "allOf": [{"if": {"properties": {"type": {"const": type_name}}}, "then": _ref(schema_name)}
                  for type_name, schema_name in schema_of.items()],
    }
    return schemas


def _schemas() -> dict[str, Schema]:
    post_view = _object({
        "id": _ref("EntryId"), "author": _ref("Did"), "author_name": _nullable(_text(100)), "ts": _MS,
        "text": _nullable(_text(MAX_TEXT_CHARS)), "summary": _nullable(_text(500)),
        "reply_to": _nullable(_ref("EntryId")), "root": _nullable(_ref("EntryId")),
        "visibility": _VISIBILITY, "edited_ts": _nullable(_MS), "deleted": {"type": "boolean"},
        "expires": _nullable(_MS), "likes": _count(), "boosts": _count(),
        "mentions": _list(_ref("Did")), "tags": _list(_text(200)),
    }, description="A post as people see it: its current text (null once deleted or expired).")
    state = _object({
        "did": _ref("Did"), "head": _ref("EntryId"), "length": {"type": "integer", "minimum": 1},
        "ts": _MS, "rotation_keys": {"type": "array", "items": _ref("DidKey"), "minItems": 1, "maxItems": 8},
        "devices": {"type": "object", "maxProperties": 64, "propertyNames": _ref("DidKey"),
                    "additionalProperties": _object({"name": _text(100), "added": _MS})},
        "revoked": {"type": "object", "propertyNames": _ref("DidKey"), "additionalProperties": _count()},
        "handles": _list(_text(253), 16),
        "services": {"type": "object", "maxProperties": 16, "additionalProperties": _text(2000)},
    }, description="What an identity is after its latest operation.")
    operation = {**state, "properties": {
        "v": {"const": 1}, "prev": _nullable(_ref("EntryId")), "signer": _ref("DidKey"), "sig": _B64URL,
        **{name: schema for name, schema in state["properties"].items()
           if name not in ("did", "head", "length")}}}
    operation["required"] = list(operation["properties"])
    operation["description"] = "A signed identity operation, carrying the whole new state."
    return {
        "Error": _object({"error": {"type": "string", "minLength": 1}},
                         description="Every error, whatever its status."),
        "Did": {"type": "string", "pattern": "^did:weft:[a-z2-7]{48}$"},
        "DidKey": {"type": "string", "pattern": "^did:key:z[1-9A-HJ-NP-Za-km-z]+$",
                   "description": "an Ed25519 public key as a did:key"},
        "EntryId": {"type": "string", "pattern": "^[a-z2-7]{51}[aq]$",
                    "description": "base32 of the SHA-256 of the signed bytes"},
        "Health": _object({"status": {"type": "string", "const": "ok"}}),
        "NodeInfo": _object({"did": _ref("Did"), "gossip": _nullable(_object({
            "key": _ref("DidKey"), "port": {"type": "integer", "minimum": 1, "maximum": 65535}}))}),
        "IdentityState": state,
        "IdentityOperation": operation,
        "Profile": _object({
            "did": _ref("Did"), "profile": {"anyOf": [_ref("ProfileContent"), {"type": "object", "maxProperties": 0}]},
            "posts": _count(), "following": _count(), "followers": _count()}),
        "Identity": _object({"did": _ref("Did"), "state": _ref("IdentityState"), "profile": _ref("Profile")}),
        "IdentityLog": _object({"did": _ref("Did"), "state": _ref("IdentityState"), "ops": {
            "type": "array", "minItems": 1, "items": _object({
                "id": _ref("EntryId"), "op": _ref("IdentityOperation"),
                "raw": {"type": "string", "contentEncoding": "base64", "pattern": "^[A-Za-z0-9+/]*={0,2}$",
                        "description": "the operation's exact signed bytes, in standard base64"}})}}),
        "EntryHeader": _object({
            "v": {"const": 1}, "author": _ref("Did"), "device": _ref("DidKey"),
            "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SAFE_INT}, "prev": _nullable(_ref("EntryId")),
            "ts": _MS, "content_hash": _B64URL, "content_size": _count(), "expires": _MS, "sig": _B64URL,
        }, optional=("expires",), description="A signed entry header (docs/protocol/entries.md)."),
        **_content_schemas(),
        "LogEntry": _object({"id": _ref("EntryId"), "header": _ref("EntryHeader"), "content": _nullable(_ref("Content"))},
                            description="content is null when it is not held, deleted, expired, or "
                                        "of a followers-only or direct post (or an edit of one)."),
        "DeviceLogPage": _object({
            "device": _ref("DidKey"), "entries": {"type": "array", "items": _ref("LogEntry"), "maxItems": MAX_LOG_LIMIT},
            "next_after": _count(), "more": {"type": "boolean"}}),
        "PostView": post_view,
        "EntryDetail": _object({
            "id": _ref("EntryId"), "header": _ref("EntryHeader"), "content": _nullable(_ref("Content")),
            "post": {"allOf": [_ref("PostView"), {"properties": {"visibility": {"enum": ["public", "unlisted"]}}}]},
            "history": {"type": "array", "minItems": 1, "items": _object({
                "id": _ref("EntryId"), "ts": _MS, "text": _nullable(_text(MAX_TEXT_CHARS))})},
        }, optional=("post", "history"), description="post and history are there when the entry is a post."),
        "Feed": {"type": "array", "maxItems": MAX_FEED_LIMIT, "items": {"allOf": [
            _ref("PostView"), {"properties": {"visibility": {"const": "public"}, "deleted": {"const": False}}}]}},
    }


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, where: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


def _get(operation_id: str, summary: str, ok: Schema, *, errors: dict[str, str] | None = None,
         parameters: list[Schema] | None = None) -> Schema:
    responses = {"200": ok, **{code: _error(text) for code, text in (errors or {}).items()},
                 "default": _error("an unexpected failure (500), said as little as possible")}
    operation: Schema = {"operationId": operation_id, "summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


_NO_IDENTITY: Final = "this node has no identity yet"


def _paths() -> dict[str, Schema]:
    seq = {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INT}

    def limit(default: int, cap: int) -> Schema:
        return _param("limit", "query", {"type": "integer", "minimum": 1, "default": default},
                      f"at most this many; more than {cap} is read as {cap}")

    return {
        "/api/health": _get("getHealth", "Whether the server answers: for load balancers and monitors; reads nothing.",
                            _ok("the server is up", _ref("Health"))),
        "/api/node": _get("getNode", "What a peer needs to reach this node: its identity and gossip port.",
                          _ok("the node", _ref("NodeInfo"))),
        "/api/identity": _get("getIdentity", "This node's own identity: DID, current state, profile.",
                              _ok("the identity", _ref("Identity")), errors={"404": _NO_IDENTITY}),
        "/api/identities/{did}": _get(
            "getIdentityLog", "An identity this node holds: its state and the signed operations of its log.",
            _ok("the identity and its log, genesis first", _ref("IdentityLog")),
            errors={"400": "the DID is malformed", "404": "this node does not hold that identity's log"},
            parameters=[_param("did", "path", _ref("Did"), "the identity")]),
        "/api/logs/{device}": _get(
            "getDeviceLog", "The entries of one device log, in seq order.",
            _ok("a page of the log; ask again with after=next_after while more is true", _ref("DeviceLogPage")),
            errors={"400": "the device key or a query parameter is malformed or out of range",
                    "404": "this node holds no log of that device"},
            parameters=[_param("device", "path", _ref("DidKey"), "the device's key"),
                        _param("after", "query", {**seq, "default": 0}, "entries after this seq"),
                        limit(100, MAX_LOG_LIMIT)]),
        "/api/entries/{entry_id}": _get(
            "getEntry", "One entry by id or unique prefix: header, content, and for posts the view and history.",
            _ok("the entry", _ref("EntryDetail")),
            errors={"400": "not an entry id, or a prefix naming more than one entry",
                    "404": "no such entry here, or a followers-only or direct post (or an edit of one)"},
            parameters=[_param("entry_id", "path", {"type": "string", "pattern": "^[A-Za-z2-7]{6,52}$"},
                               "an entry id, or at least its first 6 characters")]),
        "/api/feed": _get(
            "getFeed", "The public posts of the node identity's feed (its own and whom it follows), newest first.",
            _ok("posts, newest first", _ref("Feed")),
            errors={"400": "a query parameter is malformed or out of range", "404": _NO_IDENTITY},
            parameters=[limit(20, MAX_FEED_LIMIT),
                        _param("before", "query", seq, "only posts older than this (a post's ts) to page back")]),
        OPENAPI_PATH: _get("getOpenApi", "This document.",
                           _ok("the OpenAPI document", {"type": "object", "required": ["openapi", "info", "paths"]})),
    }


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (one object per process: do not change it)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "weft native API",
            "version": __version__,
            "description": (
                "The read-only JSON API of a weft node: identities, their logs, device logs, entries "
                "and the node identity's feed, as this node holds them, without the content of "
                "followers-only and direct posts. Every error is JSON, {\"error\": message}, with "
                "its status: 400 for malformed input, 404 for what is not here (an unknown path "
                "under /api/ too), 405 for a method other than GET or HEAD (with an Allow header)."),
        },
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }


@cache
def _document_bytes() -> bytes:
    return orjson.dumps(document())


async def openapi_json(request: Request) -> Response:
    return Response(_document_bytes(), media_type="application/json",
                    headers={"cache-control": "public, max-age=3600",
                             "access-control-allow-origin": "*"})


ROUTES: Final = [Route(OPENAPI_PATH, openapi_json, methods=["GET"])]
