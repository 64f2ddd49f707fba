"""Structured Field Values (RFC 8941): the syntax of Signature-Input, Signature and Content-Digest.

RFC 9421 signs and carries its parameters as structured fields, and its signature base
contains them re-serialized, so both directions are needed: :func:`parse_dictionary` and
:func:`parse_list` follow the parsing algorithms of RFC 8941 §4.2 step by step (strict: any
deviation fails the whole field, as §4.2 requires), and the ``serialize_*`` functions follow
§4.1. RFC 9651's additions (Dates, Display Strings) are not read: no signature field uses them.

A token is kept apart from a string by its type (:class:`Token`), since ``a=b`` and ``a="b"``
serialize differently. Failures raise :class:`StructuredFieldError`; callers name the field.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Member",
    "StructuredFieldError",
    "Token",
    "parse_dictionary",
    "parse_item",
    "parse_list",
    "serialize_dictionary",
    "serialize_inner_list",
    "serialize_item",
    "serialize_member",
]

MAX_INTEGER = 999_999_999_999_999


class StructuredFieldError(ValueError):
    """A field value that is not a valid structured field of the expected kind."""


class Token(str):
    """A token (``a=b``), as distinct from a string (``a="b"``)."""

    __slots__ = ()


BareItem = int | Decimal | str | bytes | bool


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: dict[str, BareItem] = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: dict[str, BareItem] = field(default_factory=dict)


Member = Item | InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


class _Parser:
    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("a structured field holds only ASCII characters")
        self.text = text.strip(" ")
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at character {self.pos + 1} of {self.text!r}")

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def after_member(self) -> bool:
        """Step past the comma between members; False at the end of the field."""
        self.skip(" \t")
        if self.done():
            return False
        if self.peek() != ",":
            raise self.fail("expected a comma")
        self.pos += 1
        self.skip(" \t")
        if self.done():
            raise self.fail("a comma ends the field")
        return True

    def member(self) -> Member:
        return self.inner_list() if self.peek() == "(" else self.item()

    def inner_list(self) -> InnerList:
        self.pos += 1
        items: list[Item] = []
        while not self.done():
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.parameters())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected a space or ')' in an inner list")
        raise self.fail("an inner list is not closed")

    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.parameters())

    def parameters(self) -> dict[str, BareItem]:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:
        match = _KEY.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char and (char.isalpha() or char == "*"):
            match = _TOKEN.match(self.text, self.pos)
            if match is not None:
                self.pos = match.end()
                return Token(match.group())
        raise self.fail("expected an item")

    def number(self) -> int | Decimal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a number")
        text = match.group()
        digits = text.lstrip("-")
        if match.group(1) is None:
            if len(digits) > 15:
                raise self.fail("an integer has more than 15 digits")
            self.pos = match.end()
            return int(text)
        whole, fraction = digits.split(".")
        if len(whole) > 12 or not 1 <= len(fraction) <= 3:
            raise self.fail("a decimal takes at most 12 digits before the point and 1 to 3 after it")
        self.pos = match.end()
        return Decimal(text)

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while not self.done():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\") or not escaped:
                    raise self.fail("a backslash in a string escapes only '\"' or '\\'")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("a string holds a control character")
            else:
                out.append(char)
        raise self.fail("a string is not closed")

    def byte_sequence(self) -> bytes:
        end = self.text.find(":", self.pos + 1)
        if end < 0:
            raise self.fail("a byte sequence is not closed")
        content = self.text[self.pos + 1:end]
        if _BASE64.fullmatch(content) is None:
            raise self.fail("a byte sequence holds characters that are not base64")
        try:
            value = base64.b64decode(content, validate=True)
        except binascii.Error:
            raise self.fail("a byte sequence is not valid base64") from None
        self.pos = end + 1
        return value

    def boolean(self) -> bool:
        self.pos += 1
        char = self.peek()
        if char not in ("0", "1") or not char:
            raise self.fail("a boolean is ?0 or ?1")
        self.pos += 1
        return char == "1"


def parse_dictionary(text: str) -> dict[str, Member]:
    """A dictionary field (RFC 8941 §4.2.2); a key given twice keeps its last value."""
    parser = _Parser(text)
    members: dict[str, Member] = {}
    while not parser.done():
        key = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            members[key] = parser.member()
        else:
            members[key] = Item(True, parser.parameters())
        if not parser.after_member():
            break
    return members


def parse_list(text: str) -> list[Member]:
    """A list field (RFC 8941 §4.2.1)."""
    parser = _Parser(text)
    members: list[Member] = []
    while not parser.done():
        members.append(parser.member())
        if not parser.after_member():
            break
    return members


def parse_item(text: str) -> Item:
    """An item field (RFC 8941 §4.2.3)."""
    parser = _Parser(text)
    item = parser.item()
    if not parser.done():
        raise parser.fail("an item field has more after its item")
    return item


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            raise StructuredFieldError(f"the integer {value} is out of range")
        return str(value)
    if isinstance(value, Decimal):
        return _serialize_decimal(value)
    if isinstance(value, bytes):
        return f":{base64.b64encode(value).decode('ascii')}:"
    if isinstance(value, Token):
        if _TOKEN.fullmatch(value) is None:
            raise StructuredFieldError(f"{value!r} is not a valid token")
        return str(value)
    if not value.isascii() or any(not " " <= char <= "~" for char in value):
        raise StructuredFieldError(f"the string {value!r} holds characters a structured field cannot carry")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_decimal(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    if len(whole) > 12:
        raise StructuredFieldError(f"the decimal {value} has more than 12 integer digits")
    fraction = fraction.rstrip("0") or "0"
    return f"{'-' if rounded < 0 else ''}{whole}.{fraction}"


def serialize_params(params: dict[str, BareItem]) -> str:
    out = []
    for key, value in params.items():
        if _KEY.fullmatch(key) is None:
            raise StructuredFieldError(f"{key!r} is not a valid key")
        out.append(f";{key}" if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return "(" + " ".join(serialize_item(item) for item in inner.items) + ")" + serialize_params(inner.params)


def serialize_member(member: Member) -> str:
    return serialize_inner_list(member) if isinstance(member, InnerList) else serialize_item(member)


def serialize_dictionary(members: dict[str, Member]) -> str:
    out = []
    for key, member in members.items():
        if _KEY.fullmatch(key) is None:
            raise StructuredFieldError(f"{key!r} is not a valid key")
        if isinstance(member, Item) and member.value is True:
            out.append(key + serialize_params(member.params))
        else:
            out.append(f"{key}={serialize_member(member)}")
    return ", ".join(out)
