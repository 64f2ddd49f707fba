"""Plain-text posts to safe HTML: paragraphs, line breaks, links, mentions and hashtags.

Every face that shows a post as HTML (the Mastodon client API, the web app) takes it from
here, so no markup a person typed reaches a page: :func:`parse` cuts the text into tokens,
and :func:`render_html` writes a fixed set of tags around escaped text, with hrefs only from
``http(s)`` URLs in the text or from the caller's resolvers.

The rules follow Mastodon's, so that posts read alike on both networks: a mention or a
hashtag starts at the start of the text or after a non-word character; trailing
punctuation ends mentions, hashtags and URLs; a URL keeps balanced parentheses; a link
shows without its scheme and ``www.``, cut to 30 characters; and for the length limit
every URL weighs 23 characters and ``@user@host`` weighs ``@user``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Final, TypeAlias

from weft.errors import UsageError

__all__ = [
    "MAX_HASHTAG_CHARS", "MAX_LINK_DISPLAY_CHARS", "URL_WEIGHT", "Hashtag", "LineBreak", "Link",
    "Mention", "MentionHref", "ParagraphBreak", "TagHref", "Text", "Token", "UnsafeHref",
    "count_characters", "hashtags", "links", "mentions", "normalize_hashtag", "parse",
    "render_html", "to_summary_html",
]

URL_WEIGHT: Final = 23
MAX_HASHTAG_CHARS: Final = 100
MAX_LINK_DISPLAY_CHARS: Final = 30
MAX_DOMAIN_CHARS: Final = 253

# re.ASCII: without it IGNORECASE lets "ſ" (long s) stand for "s" in the scheme.
_SCHEME: Final = re.compile(r"https?://", re.IGNORECASE | re.ASCII)
_DISPLAY_PREFIX: Final = re.compile(r"\Ahttps?://(?:www\.)?", re.IGNORECASE | re.ASCII)
_AUTHORITY: Final = re.compile(r"([^:]*)(?::[0-9]{1,5})?")  # host, then :port
_SAFE_HREF: Final = re.compile(r"https?://|/", re.IGNORECASE | re.ASCII)
_USERNAME: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_PORT: Final = re.compile(r":[1-9][0-9]{0,4}")
_TRAILING_PUNCTUATION: Final = frozenset(".,!?:;'")
_CLOSER_OPENER: Final = {")": "(", "]": "["}
# Joiners allowed inside a hashtag, never at its ends, as in Mastodon: middle dot, katakana
# middle dot, and the zero-width non-joiner that Persian words need.
_TAG_SEPARATORS: Final = frozenset("\u00b7\u30fb\u200c")


class UnsafeHref(UsageError):
    """A resolver gave an href that is neither an http(s) URL nor a path starting with ``/``."""


@dataclass(frozen=True, slots=True)
class Text:
    """Characters shown as they are (HTML-escaped); never holds a newline."""
    value: str


@dataclass(frozen=True, slots=True)
class Link:
    """An http(s) URL exactly as written, and the short form a reader sees."""
    url: str
    display: str


@dataclass(frozen=True, slots=True)
class Mention:
    """``@username`` or ``@username@host``; ``host`` is lowercased, ``raw`` is as written."""
    username: str
    host: str | None
    raw: str


@dataclass(frozen=True, slots=True)
class Hashtag:
    """``#name``, with the name as written (see :func:`normalize_hashtag` for the key)."""
    name: str


@dataclass(frozen=True, slots=True)
class LineBreak:
    """One newline (``\\n``, ``\\r\\n`` or ``\\r``)."""


@dataclass(frozen=True, slots=True)
class ParagraphBreak:
    """Two or more newlines in a row."""


Token: TypeAlias = Text | Link | Mention | Hashtag | LineBreak | ParagraphBreak
MentionHref: TypeAlias = Callable[[str, str | None], str | None]
TagHref: TypeAlias = Callable[[str], str]


def parse(text: str) -> list[Token]:
    """Cut ``text`` into tokens; never raises. In order, they hold every character but newlines."""
    tokens: list[Token] = []
    plain_from = at = 0
    while at < len(text):
        found = _token_at(text, at)
        if found is None:
            at += 1
            continue
        if plain_from < at:
            tokens.append(Text(text[plain_from:at]))
        token, at = found
        tokens.append(token)
        plain_from = at
    if plain_from < len(text):
        tokens.append(Text(text[plain_from:]))
    return tokens


def mentions(text: str) -> list[tuple[str, str | None]]:
    """``(username, host)`` of each account mentioned, once (``@Alice`` is ``@alice``), in order."""
    seen: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for token in parse(text):
        if isinstance(token, Mention):
            seen.setdefault((token.username.lower(), token.host), (token.username, token.host))
    return list(seen.values())


def normalize_hashtag(name: str) -> str:
    """The key under which a tag is stored and searched: NFKC, then lowercased."""
    return unicodedata.normalize("NFKC", name).lower()


def hashtags(text: str) -> list[str]:
    """The normalized names of the hashtags in ``text``, each once, in order."""
    names = (normalize_hashtag(t.name) for t in parse(text) if isinstance(t, Hashtag))
    return list(dict.fromkeys(names))


def links(text: str) -> list[str]:
    """The http(s) URLs in ``text`` as written, in order, repeats included."""
    return [token.url for token in parse(text) if isinstance(token, Link)]


def count_characters(text: str) -> int:
    """Length against the post limit: code points, a URL as 23, ``@user@host`` as ``@user``."""
    count = len(text)
    for token in parse(text):
        if isinstance(token, Link):
            count += URL_WEIGHT - len(token.url)
        elif isinstance(token, Mention) and token.host is not None:
            count -= len(token.raw) - len("@" + token.username)
    return count


def render_html(text: str, *, mention_href: MentionHref, tag_href: TagHref) -> str:
    """The post as Mastodon-style HTML: ``<p>`` per paragraph, ``<br />`` per line break.

    ``mention_href(username, host)`` gives an account's URL, or None to leave the mention
    as plain text; ``tag_href(normalized_name)`` gives a tag's URL. Their answers must be
    http(s) URLs or paths starting with ``/`` (else :class:`UnsafeHref`). Leading and
    trailing breaks are dropped, and a text of only whitespace renders as ``""``.
    """
    if not text.strip():
        return ""
    tokens = parse(text.strip("\r\n"))  # no break before the first line or after the last
    return f"<p>{''.join(_html_of(token, mention_href, tag_href) for token in tokens)}</p>"


def to_summary_html(text: str) -> str:
    """A content warning as escaped text on one line: line breaks become single spaces."""
    return html.escape(" ".join(line.strip() for line in text.splitlines() if line.strip()))


def _html_of(token: Token, mention_href: MentionHref, tag_href: TagHref) -> str:
    esc = html.escape
    if isinstance(token, Text):
        return esc(token.value)
    if isinstance(token, LineBreak | ParagraphBreak):
        return "<br />" if isinstance(token, LineBreak) else "</p><p>"
    if isinstance(token, Link):
        return (f'<a href="{esc(token.url)}" rel="nofollow noopener noreferrer" target="_blank">'
                f"{esc(token.display)}</a>")
    if isinstance(token, Mention):
        href = mention_href(token.username, token.host)
        if href is None:
            return esc(token.raw)
        return (f'<span class="h-card"><a href="{esc(_checked(href, "mention_href"))}" '
                f'class="u-url mention">@<span>{esc(token.username)}</span></a></span>')
    href = _checked(tag_href(normalize_hashtag(token.name)), "tag_href")
    return (f'<a href="{esc(href)}" class="mention hashtag" rel="tag">'
            f"#<span>{esc(token.name)}</span></a>")


def _checked(href: str, source: str) -> str:
    if _SAFE_HREF.match(href):  # so a resolver's bug cannot put javascript: links on pages
        return href
    raise UnsafeHref(f"{source} returned {href!r}; an href must be an http(s) URL or a path "
                     f"starting with '/'")


def _token_at(text: str, at: int) -> tuple[Token, int] | None:
    char = text[at]
    if char in "\r\n":
        end = _span(text, at, "\r\n".__contains__)
        newlines = end - at - text.count("\r\n", at, end)
        return (LineBreak() if newlines == 1 else ParagraphBreak()), end
    if char not in "@#hH" or (at > 0 and _is_word(text[at - 1])):
        return None
    return {"@": _mention_at, "#": _hashtag_at}.get(char, _link_at)(text, at)


def _mention_at(text: str, at: int) -> tuple[Token, int] | None:
    username = _USERNAME.match(text, at + 1)
    if username is None:
        return None
    end, host = username.end(), None
    if text.startswith("@", end):
        host_end = _span(text, end + 1, lambda char: char in ".-" or _is_word(char), ".-")
        if host_end > end + 1:  # "@alice@" alone is a local mention followed by "@"
            host = text[end + 1:host_end]
            if not _is_domain(host):
                return None
            end = host_end
            port = _PORT.match(text, end)
            if port is not None and not (port.end() < len(text) and _is_word(text[port.end()])):
                # A port, as servers on a LAN or one machine have (bob@b.test:8002); Mastodon's
                # handles never carry one, so "@bob@b.test: hi" still ends at the colon.
                host, end = host + port.group(), port.end()
    if end < len(text) and _is_word(text[end]):  # "@josé" is no mention of "jos"
        return None
    return Mention(username.group(), host.lower() if host else None, text[at:end]), end


def _hashtag_at(text: str, at: int) -> tuple[Token, int] | None:
    start = at + 1
    if start >= len(text) or not _is_word(text[start]):
        return None
    end = _span(text, start, lambda char: char in _TAG_SEPARATORS or _is_word(char),
                _TAG_SEPARATORS)
    name = text[start:end]
    if len(name) > MAX_HASHTAG_CHARS or all(unicodedata.category(c)[0] == "N" for c in name):
        return None
    return Hashtag(name), end


def _link_at(text: str, at: int) -> tuple[Token, int] | None:
    scheme = _SCHEME.match(text, at)
    if scheme is None:
        return None
    # The host is checked before the rest is read: "http://http://…" then takes linear time.
    host_end = _span(text, scheme.end(), lambda char: char not in "/?#" and _is_url_char(char))
    if not text.startswith(("/", "?", "#"), host_end):  # the URL ends with its host
        host_end = _trim_url(text, scheme.end(), host_end)
    authority = _AUTHORITY.fullmatch(text, scheme.end(), host_end)
    if authority is None or "." not in authority[1] or not _is_domain(authority[1]):
        return None
    end = _trim_url(text, at, _span(text, host_end, _is_url_char))
    url = text[at:end]
    shown = _DISPLAY_PREFIX.sub("", url, count=1)
    if len(shown) > MAX_LINK_DISPLAY_CHARS:
        shown = shown[:MAX_LINK_DISPLAY_CHARS] + "…"
    return Link(url, shown), end


def _trim_url(text: str, start: int, end: int) -> int:
    """Drop trailing punctuation, and closing brackets that no opening one in the URL matches."""
    unmatched = {closer: text.count(closer, start, end) - text.count(opener, start, end)
                 for closer, opener in _CLOSER_OPENER.items()}
    while end > start and (text[end - 1] in _TRAILING_PUNCTUATION
                           or unmatched.get(text[end - 1], 0) > 0):
        if text[end - 1] in unmatched:
            unmatched[text[end - 1]] -= 1
        end -= 1
    return end


def _is_domain(host: str) -> bool:
    if not all(label and _is_word(label[0]) and _is_word(label[-1])
               and all(char == "-" or _is_word(char) for char in label)
               for label in host.split(".")):
        return False
    try:  # IDNA: label lengths, and what nameprep refuses
        return len(host.encode("idna")) <= MAX_DOMAIN_CHARS
    except UnicodeError:
        return False


def _span(text: str, start: int, belongs: Callable[[str], bool],
          unwanted_last: Container[str] = "") -> int:
    """End of the run of ``belongs`` characters from ``start``, less ``unwanted_last`` ones."""
    end = start
    while end < len(text) and belongs(text[end]):
        end += 1
    while end > start and text[end - 1] in unwanted_last:
        end -= 1
    return end


def _is_word(char: str) -> bool:
    # Letters, marks, numbers and connectors, like Ruby's [[:word:]]; Python's \w leaves out
    # marks, which would cut "#हिन्दी" at its first virama.
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


def _is_url_char(char: str) -> bool:
    return char not in '<>"' and unicodedata.category(char)[0] not in "CZ"
