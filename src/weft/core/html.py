"""HTML from other servers, made safe to show, and its plain text.

Posts written on weft are plain text rendered by us (weft.core.text). Posts from the
Fediverse arrive as HTML; this keeps only what Mastodon itself keeps (its strict
sanitizer config: paragraphs, breaks, links, a few inline and list elements, and the
microformat classes that mark mentions and hashtags), with nh3 (ammonia) doing the
parsing: no regular expressions of ours between a hostile document and a browser.
Links get ``rel="nofollow noopener noreferrer"`` and only absolute http(s) addresses (a
relative one would point into this site).
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Final

import nh3

__all__ = ["ALLOWED_TAGS", "html_to_text", "sanitize_html"]

ALLOWED_TAGS: Final = frozenset({"p", "br", "span", "a", "del", "s", "pre", "code", "em", "strong", "b", "i", "u",
                                 "ul", "ol", "li", "blockquote"})
# ``class`` is not listed: ammonia keeps it through ``_CLASSES`` alone, value by value.
_ATTRIBUTES: Final = {"a": {"href"}, "ol": {"start", "reversed"}, "li": {"value"}}
_CLASSES: Final = {"a": {"h-card", "u-url", "mention", "hashtag", "status-link", "unhandled-link"},
                   "span": {"h-card", "invisible", "ellipsis", "mention", "hashtag", "u-url"}}
_DROPPED_WITH_CONTENT: Final = {"script", "style", "template", "iframe", "object", "embed", "noscript", "title"}


_CLEANER: Final = nh3.Cleaner(
    tags=set(ALLOWED_TAGS), clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
    allowed_classes={tag: set(names) for tag, names in _CLASSES.items()},
    url_schemes={"http", "https"}, url_relative="deny", link_rel="nofollow noopener noreferrer",
    strip_comments=True)


def sanitize_html(html: str) -> str:
    """``html`` with only the allowed elements, attributes, classes and link schemes left."""
    return _CLEANER.clean(html)


class _Text(HTMLParser):
    _BREAKS: Final = frozenset({"br"})
    _BLOCKS: Final = frozenset({"p", "li", "blockquote", "pre", "ul", "ol", "div", "h1", "h2", "h3", "h4"})
    _SKIP: Final = frozenset(_DROPPED_WITH_CONTENT)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        elif tag in self._BLOCKS and self.parts and not self.parts[-1].endswith("\n\n"):
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of ``html``: paragraphs as blank lines, breaks as newlines (for
    search, previews, feeds and the plain ``text`` every post carries)."""
    text = _plain_markup_text(html)
    if text is not None:
        return text
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


# The markup sanitize_html writes (lower-case tags, attributes with double-quoted values, no
# comments), which HTMLParser reads as these tags and the text between them. A tag of the
# skipped elements is left to HTMLParser (script and style change how it reads what follows).
# End tags have no attributes there (HTMLParser would end one at the first ">").
_SKIPPED: Final = _Text._SKIP | frozenset(HTMLParser.CDATA_CONTENT_ELEMENTS)
_PLAIN_TAG: Final = re.compile(r'<(?:/(?P<end>[a-z][a-z0-9]*)|(?P<start>[a-z][a-z0-9]*)(?: [a-z][a-z-]*="[^"<]*")*)>')


def _plain_markup_text(html: str) -> str | None:
    """What :class:`_Text` makes of ``html``, if every ``<`` in it opens such a tag, read with
    one regular expression (HTMLParser's tokenizer cost most of a remote post's mapping);
    else None. Text runs are unescaped whole, as HTMLParser's convert_charrefs does."""
    # split() gives text, end tag name, start tag name (one of the two None), text, ...
    pieces = _PLAIN_TAG.split(html)
    parts: list[str] = []
    for index in range(0, len(pieces), 3):
        data = pieces[index]
        if data:
            if "<" in data:
                return None
            parts.append(unescape(data) if "&" in data else data)
        if index + 1 == len(pieces):
            break
        closing, name = pieces[index + 1], pieces[index + 2]
        if (closing or name) in _SKIPPED:
            return None
        if closing:
            continue
        if name in _Text._BREAKS:
            parts.append("\n")
        elif name in _Text._BLOCKS and parts and not parts[-1].endswith("\n\n"):
            parts.append("\n\n")
    return "".join(parts).strip()
