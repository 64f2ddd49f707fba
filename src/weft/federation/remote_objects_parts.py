"""The pieces of a remote post's display form: media, mentions, hashtags, emoji, poll options.

Each reads a parsed :class:`ASObject` (or its references) and keeps only what a timeline can
use safely: http(s) addresses, bounded counts (those of weft's own posts, so that a hostile
document cannot make a post of 10,000 attachments), names as plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from weft.core.content import MAX_ATTACHMENTS
from weft.federation.activitystreams import ASObject, Link, Ref, iri_of

__all__ = [
    "MAX_TAGS",
    "Emoji",
    "Media",
    "Mention",
    "Poll",
    "PollOption",
    "emojis_of",
    "hashtags_of",
    "media_of",
    "mentions_of",
    "poll_of",
    "web_iri",
]

MAX_TAGS: Final = 64  # as weft.core.content's lists of mentions and tags
MAX_OPTIONS: Final = 64


@dataclass(frozen=True, slots=True)
class Mention:
    """An actor a post names: its IRI, and the handle written (``@bob@example.org``)."""

    iri: str
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """A media attachment, not fetched: where it is and what it says about itself."""

    url: str
    mime: str | None = None
    alt: str | None = None
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    preview: str | None = None


@dataclass(frozen=True, slots=True)
class Emoji:
    """A custom emoji: ``:shortcode:`` in the text is shown as the image at ``url``."""

    shortcode: str
    url: str


@dataclass(frozen=True, slots=True)
class PollOption:
    title: str
    votes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Poll:
    """A Question's options and counts, shown read-only."""

    options: tuple[PollOption, ...]
    multiple: bool = False
    voters_count: int | None = None
    ends_at: datetime | None = None
    closed: datetime | bool | None = None


def web_iri(iri: str | None) -> str | None:
    """``iri`` if it is an http(s) address (what a browser may be sent to), else None."""
    if iri is not None and iri[:8].lower().startswith(("https://", "http://")):
        return iri
    return None


def _first_web(refs: Iterable[Ref]) -> tuple[str, Link | None] | None:
    for ref in refs:
        url = web_iri(iri_of(ref) if not isinstance(ref, ASObject) else _object_url(ref))
        if url is not None:
            return url, ref if isinstance(ref, Link) else None
    return None


def _object_url(obj: ASObject) -> str | None:
    found = _first_web(obj.url)
    return found[0] if found else web_iri(obj.id)


def _largest(refs: Iterable[Ref]) -> str | None:
    """The web address of the widest image among ``refs`` (an icon given in several sizes)."""
    best: tuple[int, str] | None = None
    for ref in refs:
        url = web_iri(_object_url(ref) if isinstance(ref, ASObject) else iri_of(ref))
        width = (ref.width if not isinstance(ref, str) else None) or 0
        if url is not None and (best is None or width > best[0]):
            best = (width, url)
    return best[1] if best else None


def media_of(refs: Iterable[Ref], *, default_mime: str | None = None) -> tuple[Media, ...]:
    """The media among ``refs``: an IRI, a Link, or an object (Document, Image...) with a url.

    Objects that are not media (a profile field's PropertyValue) are left out."""
    found: list[Media] = []
    for ref in refs:
        if len(found) == MAX_ATTACHMENTS:
            break
        if isinstance(ref, str):
            if web_iri(ref):
                found.append(Media(url=ref, mime=default_mime))
            continue
        if isinstance(ref, Link):
            if ref.href and web_iri(ref.href):
                found.append(Media(url=ref.href, mime=ref.media_type or default_mime, alt=ref.name,
                                   width=ref.width, height=ref.height))
            continue
        if ref.has_type("PropertyValue", "Emoji", "Hashtag", "Mention"):
            continue
        first = _first_web(ref.url)
        if first is None:
            continue
        url, link = first
        found.append(Media(
            url=url, mime=ref.media_type or (link.media_type if link else None) or default_mime,
            alt=ref.name or None, blurhash=ref.blurhash,
            width=ref.width or (link.width if link else None), height=ref.height or (link.height if link else None),
            preview=_largest(ref.icon)))
    return tuple(found)


def mentions_of(tags: Iterable[Ref]) -> tuple[Mention, ...]:
    seen: dict[str, Mention] = {}
    for tag in tags:
        if isinstance(tag, Link) and tag.has_type("Mention") and tag.href and len(seen) < MAX_TAGS:
            seen.setdefault(tag.href, Mention(tag.href, tag.name))
    return tuple(seen.values())


def hashtags_of(tags: Iterable[Ref]) -> tuple[str, ...]:
    """Hashtag names without their ``#``, first spelling kept, one per name ignoring case."""
    seen: dict[str, str] = {}
    for tag in tags:
        if isinstance(tag, Link | ASObject) and tag.has_type("Hashtag") and tag.name:
            name = tag.name.strip().lstrip("#").strip()
            if name and len(name) <= 200 and len(seen) < MAX_TAGS:
                seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def emojis_of(tags: Iterable[Ref]) -> tuple[Emoji, ...]:
    found: dict[str, Emoji] = {}
    for tag in tags:
        if isinstance(tag, ASObject) and tag.has_type("Emoji") and tag.name:
            shortcode = tag.name.strip(":")
            url = _largest(tag.icon)
            if shortcode and url and len(found) < MAX_TAGS:
                found.setdefault(shortcode, Emoji(shortcode, url))
    return tuple(found.values())


def poll_of(question: ASObject) -> Poll:
    """The options of a Question (``oneOf``, or ``anyOf`` for several answers) with their
    counts (each option's ``replies.totalItems``, as Mastodon sends them)."""
    multiple = bool(question.any_of) and not question.one_of
    options = []
    for ref in (question.any_of if multiple else question.one_of)[:MAX_OPTIONS]:
        if isinstance(ref, ASObject) and ref.name:
            votes = ref.replies.total_items if isinstance(ref.replies, ASObject) else None
            options.append(PollOption(ref.name, votes))
    return Poll(options=tuple(options), multiple=multiple, voters_count=question.voters_count,
                ends_at=question.end_time, closed=question.closed)
