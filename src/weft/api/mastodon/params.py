"""A Mastodon request's parameters, wherever the client put them: the query string, a form
(URL-encoded or multipart) or a JSON body.

Mastodon is a Rails application, and clients write nested parameters the Rails way:
``fields_attributes[0][name]=Site``, ``source[privacy]=unlisted``, ``redirect_uris[]=…``.
:func:`nest` turns such keys into the nested dicts and lists a JSON body would carry, so
that a route reads both alike through :class:`Params`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from weft.errors import UsageError

__all__ = ["MAX_DEPTH", "MAX_PARAMS", "Params", "ParamsError", "nest", "read_params"]

MAX_PARAMS: Final = 256
MAX_DEPTH: Final = 4
MAX_JSON_BYTES: Final = 1024 * 1024

_KEY: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT: Final = re.compile(r"\[([^\[\]]*)\]")
_TRUE: Final = frozenset({"1", "true", "t", "on", "yes"})
_FALSE: Final = frozenset({"0", "false", "f", "off", "no", ""})


class ParamsError(UsageError):
    """Parameters that cannot be read: clashing or too deeply nested keys, a malformed body."""


def nest(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Bracketed keys to nested values: ``a[b]=1`` gives ``{"a": {"b": "1"}}`` and
    ``a[]=1&a[]=2`` gives ``{"a": ["1", "2"]}``; a key that is not of that shape is kept
    as it is. A key given twice keeps its last value, as in Rails."""
    result: dict[str, Any] = {}
    for count, (key, value) in enumerate(pairs, 1):
        if count > MAX_PARAMS:
            raise ParamsError(f"more than {MAX_PARAMS} parameters")
        match = _KEY.fullmatch(key)
        path = [key] if match is None else [match.group(1), *_SEGMENT.findall(match.group(2))]
        if len(path) > MAX_DEPTH + 1:
            raise ParamsError(f"the parameter {key[:60]!r} is nested more than {MAX_DEPTH} deep")
        _place(result, path, value, key)
    return result


def _place(target: dict[str, Any], path: list[str], value: Any, key: str) -> None:
    if "" in path[1:-1]:
        raise ParamsError(f"the parameter {key[:60]!r} has [] before its end")
    for depth, name in enumerate(path[:-1]):
        following = path[depth + 1]
        child = target.get(name)
        if child is None:
            child = target[name] = [] if following == "" else {}
        if following == "":
            if not isinstance(child, list):
                raise ParamsError(f"the parameter {key[:60]!r} clashes with another of its name")
            child.append(value)
            return
        if not isinstance(child, dict):
            raise ParamsError(f"the parameter {key[:60]!r} clashes with another of its name")
        target = child
    last = path[-1]
    if isinstance(target.get(last), dict | list):
        raise ParamsError(f"the parameter {key[:60]!r} clashes with another of its name")
    target[last] = value


class Params:
    """Named values of one request, read with the type a route expects (else ParamsError)."""

    def __init__(self, values: dict[str, Any], files: frozenset[str] = frozenset()) -> None:
        self.values = values
        self.files = files  # names of uploaded files (multipart), which are not values

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, *, limit: int | None = None) -> str | None:
        """A string parameter, or None if absent; ``limit`` is in characters."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool | int | float):
            value = str(value).lower()
        if not isinstance(value, str):
            raise ParamsError(f"the parameter {name!r} must be a string")
        if limit is not None and len(value) > limit:
            raise ParamsError(f"the parameter {name!r} is longer than {limit} characters")
        return value

    def flag(self, name: str) -> bool | None:
        """A boolean (``true``/``false``, ``1``/``0``, ``on``/``off``…), or None if absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ParamsError(f"the parameter {name!r} must be true or false")

    def strings(self, name: str) -> list[str] | None:
        """A list of strings (``name[]=…`` repeated, a JSON array), or one string as a list."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ParamsError(f"the parameter {name!r} must be a list of strings")

    def section(self, name: str) -> Params:
        """The nested parameters under ``name`` (``source[privacy]`` …); empty if absent."""
        value = self.values.get(name)
        if value is None:
            return Params({})
        if not isinstance(value, dict):
            raise ParamsError(f"the parameter {name!r} must be an object")
        return Params(value)

    def items(self, name: str) -> list[Params] | None:
        """A list of objects: a JSON array, or ``name[0][…]``, ``name[1][…]`` in index order."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, dict):
            try:
                ordered = [value[key] for key in sorted(value, key=int)]
            except ValueError:
                raise ParamsError(f"the parameter {name!r} must be indexed by numbers") from None
            value = ordered
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ParamsError(f"the parameter {name!r} must be a list of objects")
        return [Params(item) for item in value]


async def read_params(request: Request) -> Params:
    """The query string's parameters, overridden by the body's (a form or a JSON object)."""
    values = nest(request.query_params.multi_items())
    files: set[str] = set()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if len(body) > MAX_JSON_BYTES:
            raise ParamsError(f"the JSON body is larger than {MAX_JSON_BYTES} bytes")
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise ParamsError("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ParamsError("the JSON body must be an object")
        values.update(data)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        async with request.form(max_files=4, max_fields=MAX_PARAMS) as form:
            pairs = []
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files.add(key)
                else:
                    pairs.append((key, value))
        values.update(nest(pairs))
    return Params(values, frozenset(files))
