"""Content types: the small JSON objects that entries sign by hash.

Known types are validated strictly (a malformed post is rejected); unknown
types only need a string ``type`` and are stored and passed on, because the
network evolves faster than any one node.
"""

from __future__ import annotations

from typing import Any, Final

from weft.core.encoding import canonical, decode_canonical
from weft.core.ids import MAX_IRI_CHARS, is_actor_iri, is_entry_id, is_person
from weft.errors import EncodingError

__all__ = [
    "FOLLOW_ANSWER_TYPES",
    "MAX_ALIASES",
    "MAX_CONTENT_BYTES",
    "MAX_TEXT_CHARS",
    "VISIBILITIES",
    "ContentError",
    "decode_content",
    "encode_content",
    "validate_content",
]

MAX_CONTENT_BYTES: Final = 64 * 1024
MAX_TEXT_CHARS: Final = 16_000
MAX_LIST: Final = 64
VISIBILITIES: Final = ("public", "unlisted", "followers", "direct")

# type -> relation kind it sets, and whether it turns the relation on.
RELATION_TYPES: Final[dict[str, tuple[str, bool]]] = {
    "follow": ("follow", True),
    "unfollow": ("follow", False),
    "block": ("block", True),
    "unblock": ("block", False),
    "mute": ("mute", True),
    "unmute": ("mute", False),
}
TARGET_ENTRY_TYPES: Final = ("delete", "like", "boost")
# A locked identity's answer to a follow: type -> whether the follow is granted.
FOLLOW_ANSWER_TYPES: Final[dict[str, bool]] = {"follow_accept": True, "follow_reject": False}
MAX_ATTACHMENTS: Final = 16
# The accounts a person says they are moving from (served as ``alsoKnownAs``): Mastodon's limit.
MAX_ALIASES: Final = 10
MAX_ALT_CHARS: Final = 1500
_HEX = frozenset("0123456789abcdef")


class ContentError(EncodingError):
    """Content that is not a valid object of its declared type."""


def _text(obj: dict[str, Any], key: str, *, required: bool, limit: int = MAX_TEXT_CHARS) -> None:
    if key not in obj:
        if required:
            raise ContentError(f"{obj.get('type')}: missing {key!r}")
        return
    value = obj[key]
    if not isinstance(value, str):
        raise ContentError(f"{obj.get('type')}: {key!r} must be a string")
    if len(value) > limit:
        raise ContentError(f"{obj.get('type')}: {key!r} is longer than {limit} characters")


def _entry_ref(obj: dict[str, Any], key: str, *, required: bool) -> None:
    if key not in obj:
        if required:
            raise ContentError(f"{obj.get('type')}: missing {key!r}")
        return
    if not is_entry_id(obj[key]):
        raise ContentError(f"{obj.get('type')}: {key!r} is not an entry id")


def _person_ref(obj: dict[str, Any], key: str) -> None:
    if not is_person(obj.get(key)):
        raise ContentError(f"{obj.get('type')}: {key!r} must be a did:weft identity or an ActivityPub actor IRI")


def _iri(obj: dict[str, Any], key: str) -> None:
    if key in obj and not is_actor_iri(obj[key]):
        raise ContentError(f"{obj.get('type')}: {key!r} must be an http(s) IRI")


def _str_list(obj: dict[str, Any], key: str, check: Any = None, limit: int = 200) -> None:
    if key not in obj:
        return
    value = obj[key]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ContentError(f"{obj.get('type')}: {key!r} must be a list of at most {MAX_LIST}")
    for item in value:
        if not isinstance(item, str) or (check is not None and not check(item)) or len(item) > limit:
            raise ContentError(f"{obj.get('type')}: {key!r} holds an invalid item")


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


_ATTACHMENT_KEYS: Final = {"blob", "mime", "alt", "width", "height", "blurhash", "thumb"}
# Media of a foreign post that this node has not fetched: where it is, not what it hashes to.
_REMOTE_ATTACHMENT_KEYS: Final = {"url", "preview", "mime", "alt", "width", "height", "blurhash"}
MAX_HTML_CHARS: Final = 48_000


def _attachments(obj: dict[str, Any]) -> None:
    """Each attachment is a blob reference: a string, or an object that describes the blob
    (sha256 hex ``blob``, ``mime``, ``alt`` text, pixel ``width``/``height``, ``blurhash``,
    ``thumb`` blob), so that alt text travels, signed, with the post."""
    if "attachments" not in obj:
        return
    value = obj["attachments"]
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise ContentError(f"post: 'attachments' must be a list of at most {MAX_ATTACHMENTS}")
    for item in value:
        if isinstance(item, str):
            if len(item) > 200:
                raise ContentError("post: 'attachments' holds an invalid item")
            continue
        remote = isinstance(item, dict) and "url" in item and "blob" not in item
        if remote:
            if set(item) - _REMOTE_ATTACHMENT_KEYS or not is_actor_iri(item["url"]) or (
                    "preview" in item and not is_actor_iri(item["preview"])):
                raise ContentError("post: a remote attachment has an http(s) 'url' (and 'preview')")
        elif not isinstance(item, dict) or not _is_digest(item.get("blob")) or set(item) - _ATTACHMENT_KEYS:
            raise ContentError("post: an attachment is a blob id or an object with a sha256 'blob' or a 'url'")
        if "thumb" in item and not _is_digest(item["thumb"]):
            raise ContentError("post: an attachment's 'thumb' must be a sha256 hex digest")
        for key, limit in (("mime", 100), ("alt", MAX_ALT_CHARS), ("blurhash", 100)):
            if key in item and (not isinstance(item[key], str) or len(item[key]) > limit):
                raise ContentError(f"post: an attachment's {key!r} must be a string of at most {limit}")
        for key in ("width", "height"):
            if key in item and (type(item[key]) is not int or not 0 < item[key] <= 100_000):
                raise ContentError(f"post: an attachment's {key!r} must be a positive integer")


def _allowed(obj: dict[str, Any], keys: set[str]) -> None:
    extra = set(obj) - keys - {"type"}
    if extra:
        raise ContentError(f"{obj['type']}: unknown fields {sorted(extra)}")


def _validate_post(obj: dict[str, Any]) -> None:
    _allowed(obj, {"text", "reply_to", "root", "mentions", "tags", "visibility", "summary",
                   "sensitive", "attachments", "board", "lang", "html", "url"})
    _text(obj, "text", required=True)
    _text(obj, "html", required=False, limit=MAX_HTML_CHARS)
    _iri(obj, "url")
    _entry_ref(obj, "reply_to", required=False)
    _entry_ref(obj, "root", required=False)
    if "root" in obj and "reply_to" not in obj:
        raise ContentError("post: 'root' without 'reply_to'")
    _str_list(obj, "mentions", is_person, limit=MAX_IRI_CHARS)
    _str_list(obj, "tags")
    _attachments(obj)
    if "visibility" in obj and obj["visibility"] not in VISIBILITIES:
        raise ContentError(f"post: visibility must be one of {', '.join(VISIBILITIES)}")
    _text(obj, "summary", required=False, limit=500)
    _text(obj, "board", required=False, limit=200)
    _text(obj, "lang", required=False, limit=16)
    if "sensitive" in obj and not isinstance(obj["sensitive"], bool):
        raise ContentError("post: 'sensitive' must be true or false")


def _validate_edit(obj: dict[str, Any]) -> None:
    _allowed(obj, {"target", "text", "summary", "sensitive", "html"})
    _entry_ref(obj, "target", required=True)
    _text(obj, "text", required=True)
    _text(obj, "html", required=False, limit=MAX_HTML_CHARS)
    _text(obj, "summary", required=False, limit=500)
    if "sensitive" in obj and not isinstance(obj["sensitive"], bool):
        raise ContentError("edit: 'sensitive' must be true or false")


def _validate_target_entry(obj: dict[str, Any]) -> None:
    _allowed(obj, {"target"})
    _entry_ref(obj, "target", required=True)


def _validate_relation(obj: dict[str, Any]) -> None:
    _allowed(obj, {"target"})
    _person_ref(obj, "target")


def _aliases(obj: dict[str, Any]) -> None:
    """The actors the identity says it also is (accounts it moves from): signed by the
    identity itself, so a server cannot claim someone's old account for them."""
    value = obj.get("aliases", [])
    if (not isinstance(value, list) or len(value) > MAX_ALIASES
            or not all(is_actor_iri(item) for item in value) or len(set(value)) != len(value)):
        raise ContentError(f"profile: 'aliases' must be a list of at most {MAX_ALIASES} different "
                           "http(s) actor IRIs")


def _validate_profile(obj: dict[str, Any]) -> None:
    _allowed(obj, {"name", "bio", "bio_html", "avatar", "header", "fields", "locked", "bot", "aliases"})
    _aliases(obj)
    _text(obj, "name", required=False, limit=100)
    _text(obj, "bio", required=False, limit=2000)
    _text(obj, "bio_html", required=False, limit=8000)
    _text(obj, "avatar", required=False, limit=MAX_IRI_CHARS)   # a blob id, or a remote actor's image URL
    _text(obj, "header", required=False, limit=MAX_IRI_CHARS)
    fields = obj.get("fields", [])
    if not isinstance(fields, list) or len(fields) > 16:
        raise ContentError("profile: 'fields' must be a list of at most 16 [name, value] pairs")
    for pair in fields:
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(p, str) and len(p) <= 500 for p in pair)):
            raise ContentError("profile: each field is a [name, value] pair of strings")
    for flag in ("locked", "bot"):
        if flag in obj and not isinstance(obj[flag], bool):
            raise ContentError(f"profile: {flag!r} must be true or false")


_VALIDATORS: Final = {
    "post": _validate_post,
    "edit": _validate_edit,
    "delete": _validate_target_entry,
    "like": _validate_target_entry,
    "boost": _validate_target_entry,
    "profile": _validate_profile,
    "move": _validate_relation,     # the author moved to ``target`` (a person)
    **{name: _validate_relation for name in RELATION_TYPES},
    **{name: _validate_relation for name in FOLLOW_ANSWER_TYPES},
}

KNOWN_TYPES: Final = frozenset(_VALIDATORS)


def validate_content(obj: dict[str, Any]) -> None:
    """Raise ContentError unless ``obj`` is valid content; unknown types pass with a string type."""
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        raise ContentError("content needs a string 'type'")
    validator = _VALIDATORS.get(kind)
    if validator is not None:
        validator(obj)


def encode_content(obj: dict[str, Any]) -> bytes:
    """Validate and canonically encode content."""
    validate_content(obj)
    data = canonical(obj)
    if len(data) > MAX_CONTENT_BYTES:
        raise ContentError(f"content is {len(data)} bytes; the limit is {MAX_CONTENT_BYTES}")
    return data


def decode_content(data: bytes) -> dict[str, Any]:
    """Decode canonical content bytes and validate them."""
    if len(data) > MAX_CONTENT_BYTES:
        raise ContentError(f"content is {len(data)} bytes; the limit is {MAX_CONTENT_BYTES}")
    obj = decode_canonical(data)
    validate_content(obj)
    return obj
