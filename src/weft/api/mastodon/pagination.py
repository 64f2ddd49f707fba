"""Mastodon's pagination: a ``Link`` header pointing at the next (older) and previous
(newer) pages by id.

Pure: the request URL and the ids of the page in, the header's value out. A page lists
newest first; the next page holds what is older than its last item (``max_id``), the
previous page what is newer than its first (``min_id``). Every other query parameter of
the request (``limit``, ``only_media``, …) is kept, so a client can follow the links as
they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["CURSORS", "link_header", "page_links"]

CURSORS: Final = frozenset({"max_id", "since_id", "min_id"})
"""The query parameters that place a page; the links set their own."""


def _with_cursor(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    kept = [(key, val) for key, val in parse_qsl(parts.query, keep_blank_values=True) if key not in CURSORS]
    return urlunsplit(parts._replace(query=urlencode([*kept, (name, value)]), fragment=""))


def page_links(url: str, *, max_id: str | None, min_id: str | None) -> str | None:
    """``<url?max_id=…>; rel="next", <url?min_id=…>; rel="prev"`` for the cursors given
    (either may be None: no link of that kind), or None when there is neither."""
    links = []
    if max_id is not None:
        links.append(f'<{_with_cursor(url, "max_id", max_id)}>; rel="next"')
    if min_id is not None:
        links.append(f'<{_with_cursor(url, "min_id", min_id)}>; rel="prev"')
    return ", ".join(links) or None


def link_header(url: str, ids: Sequence[str]) -> str | None:
    """The Link header of a page whose items have ``ids``, newest first; None for an empty page
    (a client that reaches the end stops there)."""
    if not ids:
        return None
    return page_links(url, max_id=ids[-1], min_id=ids[0])
