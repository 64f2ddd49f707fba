"""The composite terms of AS2 documents: @context, type names, language maps, link relations.

Like :mod:`weft.federation.activitystreams_values`, each reader takes a JSON value and its
path and returns the normalized value or raises :class:`ActivityStreamsError`. Sources: AS2
core §4 (the @context and its @language), §4.7 (natural language values and their maps),
RFC 8288 §3.3 (link relation types), the vocabulary's ``units`` and Mastodon's
``focalPoint`` (https://docs.joinmastodon.org/spec/activitypub/#focalPoint).
"""

from __future__ import annotations

from typing import Any, Final

from weft.federation.activitystreams_values import (
    ActivityStreamsError,
    read_float,
    read_iri,
    read_language,
    read_string,
    what,
)

__all__ = [
    "AS2_CONTEXTS",
    "capped",
    "join_path",
    "read_blurhash",
    "read_context",
    "read_focal_point",
    "read_language_map",
    "read_natural",
    "read_rel",
    "read_types",
    "read_units",
]

AS2_CONTEXTS: Final = frozenset(
    f"{scheme}://www.w3.org/ns/activitystreams{end}" for scheme in ("http", "https")
    for end in ("", "#")
)
_AS2_PREFIXES: Final = ("https://www.w3.org/ns/activitystreams#", "http://www.w3.org/ns/activitystreams#", "as:")
_UNITS: Final = frozenset({"cm", "feet", "inches", "km", "m", "miles"})


def capped(items: list[Any], limit: int, path: str) -> list[Any]:
    """``items``, if there are at most ``limit`` of them (never silently cut)."""
    if len(items) > limit:
        raise ActivityStreamsError(f"{path}: more than {limit} values")
    return items


def join_path(path: str, key: str) -> str:
    """The path of property ``key`` of the object at ``path`` (the top's path is empty)."""
    return f"{path}.{key}" if path else key


def _type_name(value: object, path: str) -> str:
    name = read_string(value, path, limit=512)
    if not name.strip():
        raise ActivityStreamsError(f"{path}: an empty type name")
    if not name.startswith(_AS2_PREFIXES):   # the usual case: "Note", not "as:Note"
        return name
    for prefix in _AS2_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def read_types(value: object, path: str) -> tuple[str, ...]:
    """``type`` (or ``formerType``): names in the AS2 namespace lose their prefix."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(_type_name(item, f"{path}[{i}]") for i, item in enumerate(capped(value, 64, path)))
    return (_type_name(value, path),)


def read_context(value: object, path: str, language: str | None, *, top: bool) -> str | None:
    """The @language the context sets (or the one inherited); at the top the AS2 context
    must be among the contexts named."""
    items = value if isinstance(value, list) else [value]
    named_as2 = False
    for i, item in enumerate(capped(items, 64, path)):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if isinstance(item, str):
            named_as2 = named_as2 or item in AS2_CONTEXTS
        elif isinstance(item, dict):
            if "@language" in item:
                tag = item["@language"]
                language = None if tag is None else read_language(tag, f"{where}.@language")
        else:
            raise ActivityStreamsError(f"{where}: a context is an IRI or an object, not {what(item)}")
    if top and not named_as2:
        raise ActivityStreamsError(f"{path}: does not name the Activity Streams 2.0 context")
    return language


def read_language_map(value: object, path: str) -> tuple[tuple[str, str], ...]:
    """``nameMap`` and kin: (BCP 47 tag, text) pairs, in document order."""
    if not isinstance(value, dict):
        raise ActivityStreamsError(f"{path}: a language map must be an object, not {what(value)}")
    pairs = []
    for tag, text in capped(list(value.items()), 256, path):
        if text is None:
            continue
        pairs.append((read_language(tag, f"{path}.{tag}"), read_string(text, f"{path}.{tag}")))
    return tuple(pairs)


def read_natural(value: object, path: str) -> str | tuple[tuple[str, str], ...]:
    """``name``, ``summary`` or ``content``: a string, or a language map given in its place."""
    # A language map where a plain string belongs is read as one (the AS2 test corpus has
    # "name": {"en": ...} among documents that must parse); its tags are still checked.
    if isinstance(value, dict):
        return read_language_map(value, path)
    return read_string(value, path)


def read_focal_point(value: Any, path: str) -> tuple[float, float]:
    """Mastodon's ``focalPoint``: (x, y), each from -1 to 1."""
    if not isinstance(value, list) or len(value) != 2:
        raise ActivityStreamsError(f"{path}: must be an array of two numbers")
    x, y = read_float(value[0], f"{path}[0]"), read_float(value[1], f"{path}[1]")
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ActivityStreamsError(f"{path}: coordinates must lie between -1 and 1")
    return (x, y)


def read_rel(value: Any, path: str) -> tuple[str, ...]:
    """A Link's ``rel``: link relation types, which hold no white space or commas."""
    items = value if isinstance(value, list) else [value]
    rels = tuple(read_string(item, f"{path}[{i}]" if items is value else path, limit=256)
                 for i, item in enumerate(capped(items, 64, path)))
    if any(not rel or any(c.isspace() or c == "," for c in rel) for rel in rels):
        raise ActivityStreamsError(f"{path}: a link relation holds no spaces or commas")
    return rels


def read_units(value: Any, path: str) -> str:
    """A Place's ``units``: one of the vocabulary's six, or an absolute IRI."""
    text = read_string(value, path, limit=4096)
    return text if text in _UNITS else read_iri(text, path)


def read_blurhash(value: Any, path: str) -> str:
    """Mastodon's ``blurhash`` of an image (a short base-83 string)."""
    return read_string(value, path, limit=128)

