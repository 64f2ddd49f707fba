"""The scalar values of Activity Streams 2.0 documents: IRIs, dates, durations, media types.

Each reader takes the JSON value and the property's path (for the message) and returns the
normalized value, or raises :class:`ActivityStreamsError`. Sources:
- IRIs: RFC 3987 (absolute IRI = scheme ":" ihier-part); AS2 core §2.1 requires ``id`` and
  links to be absolute.
- ``published``, ``updated``, ``startTime``...: xsd:dateTime (XML Schema 1.1 part 2 §3.3.7),
  accepting as servers send it: no seconds ("2015-12-12T12:34Z", in the AS2 test corpus) and
  no zone (taken as UTC). Fractions beyond microseconds are cut.
- ``duration``: xsd:duration (§3.3.6).
- ``mediaType``: RFC 2046 type/subtype, parameters unchecked (PeerTube sends
  ``application/x-bittorrent;x-scheme-handler/magnet``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from weft.errors import WeftError
from weft.federation.activitystreams_langtag import is_language_tag

__all__ = [
    "MAX_IRI_CHARS",
    "ActivityStreamsError",
    "read_bool",
    "read_datetime",
    "read_duration",
    "read_float",
    "read_iri",
    "read_language",
    "read_media_type",
    "read_non_negative",
    "read_string",
    "what",
]

MAX_IRI_CHARS: Final = 4096
MAX_STRING_CHARS: Final = 500_000


class ActivityStreamsError(WeftError):
    """A document that is not Activity Streams 2.0 as weft reads it; the message names the
    property (as a path from the document's top) and what is wrong with it."""


_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Controls and white space end an IRI wherever it is written (a request line, a header,
# HTML). The other characters RFC 3987 leaves out ({, |, backslash...) are taken, as the
# WHATWG URL standard takes them: servers send them (a Mastodon capture has a backslash).
_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f-\x9f\s]")
_HIERARCHICAL: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_DATETIME: Final = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
_DURATION: Final = re.compile(
    r"-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
)
# xsd:float and xsd:nonNegativeInteger may come as their lexical form in a string (JSON-LD
# typed literals; the AS2 corpus has "latitude": "37.7833").
_DECIMAL: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_MEDIA_TYPE: Final = re.compile(r"[A-Za-z0-9][\w!#$&^.+\-]*/[A-Za-z0-9][\w!#$&^.+\-]*(?:\s*;.*)?", re.S)


def what(value: object) -> str:
    """How a JSON value is called in a message ("a number", "an object"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def read_string(value: object, path: str, *, limit: int = MAX_STRING_CHARS) -> str:
    """A JSON string of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise ActivityStreamsError(f"{path}: must be a string, not {what(value)}")
    if len(value) > limit:
        raise ActivityStreamsError(f"{path}: longer than {limit} characters")
    return value


# Most IRIs are plain http(s) URLs: one match tells those apart from what needs the checks
# below (a host, then no space, control or forbidden character), which it implies.
_PLAIN_HTTP: Final = re.compile(r"https?://[^\x00-\x20\x7f-\x9f\s/?#][^\x00-\x20\x7f-\x9f\s]*")


def read_iri(value: object, path: str) -> str:
    """An absolute IRI; http(s) and WebSocket ones must name a host."""
    if type(value) is str and len(value) <= MAX_IRI_CHARS and _PLAIN_HTTP.fullmatch(value):
        return value
    return _checked_iri(value, path)


def _checked_iri(value: object, path: str) -> str:
    text = read_string(value, path, limit=MAX_IRI_CHARS)
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise ActivityStreamsError(f"{path}: {text[:80]!r} is not an absolute IRI")
    if _FORBIDDEN.search(text):
        raise ActivityStreamsError(f"{path}: the IRI holds a space, control or forbidden character")
    rest = text[scheme.end():]
    if scheme.group().rstrip(":").lower() in _HIERARCHICAL and (
        not rest.startswith("//") or rest[2:].startswith(("/", "?", "#")) or len(rest) == 2
    ):
        raise ActivityStreamsError(f"{path}: {text[:80]!r} names no host")
    return text


def read_datetime(value: object, path: str) -> datetime:
    """An xsd:dateTime, as an aware datetime in UTC."""
    text = read_string(value, path, limit=64)
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ActivityStreamsError(f"{path}: {text!r} is not an xsd:dateTime")
    year, month, day, hour, minute, second, fraction, _zulu, sign, tz_hours, tz_minutes = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    zone = UTC   # "Z", or no zone at all (taken as UTC)
    if sign:
        offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes))
        if offset > timedelta(hours=14):
            raise ActivityStreamsError(f"{path}: {text!r} has a zone offset beyond 14 hours")
        zone = timezone(-offset if sign == "-" else offset)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second or 0), micro, tzinfo=zone)
    except ValueError:
        raise ActivityStreamsError(f"{path}: {text!r} is not a date and time that exists") from None
    if zone is UTC:   # the usual case: nothing to convert
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ActivityStreamsError(f"{path}: {text!r} is out of range") from None


def read_duration(value: object, path: str) -> str:
    """An xsd:duration, kept as written (months and years have no fixed length)."""
    text = read_string(value, path, limit=64)
    if not _DURATION.fullmatch(text):
        raise ActivityStreamsError(f"{path}: {text!r} is not an xsd:duration")
    return text


def read_media_type(value: object, path: str) -> str:
    """A MIME type, lowered in its type/subtype."""
    text = read_string(value, path, limit=255)
    if not _MEDIA_TYPE.fullmatch(text):
        raise ActivityStreamsError(f"{path}: {text!r} is not a media type")
    head, sep, params = text.partition(";")
    return head.strip().lower() + sep + params


def read_language(value: object, path: str) -> str:
    """A BCP 47 language tag (see :mod:`weft.federation.activitystreams_langtag`)."""
    text = read_string(value, path, limit=64)
    if not is_language_tag(text):
        raise ActivityStreamsError(f"{path}: {text!r} is not a valid BCP 47 language tag")
    return text


def read_non_negative(value: object, path: str) -> int:
    """An xsd:nonNegativeInteger (a JSON integer; 3.0 is accepted as 3, and "3")."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or value < 0:
        raise ActivityStreamsError(f"{path}: must be a non-negative integer, not {what(value)}")
    if value >= 2**63:
        raise ActivityStreamsError(f"{path}: too large")
    return value


def read_float(value: object, path: str) -> float:
    """An xsd:float (any finite JSON number, or one in a string)."""
    if isinstance(value, str) and len(value) < 64 and _DECIMAL.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActivityStreamsError(f"{path}: must be a number, not {what(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ActivityStreamsError(f"{path}: too large") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ActivityStreamsError(f"{path}: must be a finite number")
    return number


def read_bool(value: object, path: str) -> bool:
    """An xsd:boolean (JSON true or false)."""
    if not isinstance(value, bool):
        raise ActivityStreamsError(f"{path}: must be true or false, not {what(value)}")
    return value
