"""Remote objects in the one form a timeline shows: :class:`RemotePost`.

Notes and Questions (a poll, read-only) show their content; Articles, Pages, Images,
Videos, Audio and Events are *converted* as Mastodon converts them (its
app/lib/activitypub/parser/status_parser.rb): their name, summary and a link to the
original, an Event's time and place, and their picture, since a timeline is no place for a
whole article. Tombstones become deleted posts. Content HTML goes through
:func:`weft.core.html.sanitize_html` (Mastodon's allow-list, by nh3); content in another
media type (``text/markdown``, ``text/plain``) is shown as escaped text.

Pure: the author's followers collection, needed to tell followers-only posts, is an argument
(from the actor document the caller holds).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from weft.core.html import html_to_text, sanitize_html
from weft.federation.activitystreams import ActivityStreamsError, ASObject, Ref, iri_of, iris_of
from weft.federation.activitystreams_addressing import Visibility, visibility_of
from weft.federation.remote_objects_parts import (
    Emoji,
    Media,
    Mention,
    Poll,
    PollOption,
    emojis_of,
    hashtags_of,
    media_of,
    mentions_of,
    poll_of,
    web_iri,
)

__all__ = ["DISPLAYED_TYPES", "Emoji", "Media", "Mention", "Poll", "PollOption", "RemotePost", "remote_post"]

DISPLAYED_TYPES: Final = ("Note", "Question", "Article", "Page", "Image", "Video", "Audio", "Event", "Tombstone")
_CONVERTED: Final = frozenset({"Article", "Page", "Image", "Video", "Audio", "Event"})
_NOT_AUTHORS: Final = ("Group", "Organization")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePost:
    """A remote object as a timeline shows it; ``deleted`` for a Tombstone (then empty)."""

    id: str
    kind: str  # the AS2 type it came as (Note, Question, Article..., Tombstone)
    author: str | None
    url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    in_reply_to: str | None = None
    html: str = ""  # sanitized
    text: str = ""  # plain, for search and previews
    summary: str | None = None  # the content warning, plain text
    sensitive: bool = False
    language: str | None = None
    hashtags: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    emojis: tuple[Emoji, ...] = ()
    attachments: tuple[Media, ...] = ()
    visibility: Visibility = "direct"
    poll: Poll | None = None
    deleted: bool = False


def remote_post(obj: ASObject, *, followers: str | None = None, actor: str | None = None) -> RemotePost:
    """``obj`` in display form. ``followers`` is its author's followers collection; ``actor``
    the author to assume when ``attributedTo`` is missing (the Create's actor)."""
    kind = next((name for name in DISPLAYED_TYPES if name in obj.types), None)
    if kind is None:
        raise ActivityStreamsError(f"type: {'/'.join(obj.types) or 'an untyped object'} is not something "
                                   f"a timeline shows ({', '.join(DISPLAYED_TYPES)})")
    if obj.id is None:
        raise ActivityStreamsError("id: a post needs one")
    author = _author(obj.attributed_to) or actor
    visibility = visibility_of(iris_of(obj.to), iris_of(obj.cc), followers)
    if kind == "Tombstone":
        return RemotePost(id=obj.id, kind=kind, author=author, updated=obj.deleted or obj.updated,
                          visibility=visibility, deleted=True)
    if author is None:
        raise ActivityStreamsError("attributedTo: a post needs an author")
    content, language = _content(obj)
    url = _page_url(obj)
    if kind in _CONVERTED:
        body, summary = _converted_html(obj, kind, url), None
        attachments = media_of(obj.attachment) or _pictures(obj, kind)
    else:
        body = _content_html(content, obj.media_type) if content is not None else _escaped(obj.name or "")
        summary = _plain(obj.summary if obj.summary is not None else _first(obj.summary_map))
        attachments = media_of(obj.attachment)
    clean = sanitize_html(body)
    return RemotePost(
        id=obj.id, kind=kind, author=author, url=url, published=obj.published, updated=obj.updated,
        in_reply_to=iri_of(obj.in_reply_to[0]) if obj.in_reply_to else None,
        html=clean, text=html_to_text(clean), summary=summary, sensitive=bool(obj.sensitive),
        language=language, hashtags=hashtags_of(obj.tag), mentions=mentions_of(obj.tag),
        emojis=emojis_of(obj.tag), attachments=attachments, visibility=visibility,
        poll=poll_of(obj) if kind == "Question" else None)


def _author(refs: tuple[Ref, ...]) -> str | None:
    """The first attributed actor that is a person rather than a group (PeerTube attributes a
    video to its uploader and its channel)."""
    people = [ref for ref in refs if not (isinstance(ref, ASObject) and ref.has_type(*_NOT_AUTHORS))]
    for ref in people or refs:
        iri = iri_of(ref)
        if iri is not None:
            return iri
    return None


def _first(pairs: tuple[tuple[str, str], ...]) -> str | None:
    return pairs[0][1] if pairs else None


def _content(obj: ASObject) -> tuple[str | None, str | None]:
    """The content to show and its language: ``content``, or the ``contentMap`` entry in the
    document's language, or the first; the language is the map's key for it, or @language."""
    default = obj.language if obj.language and obj.language.lower() != "und" else None
    if obj.content is not None:
        keys = [tag for tag, text in obj.content_map if text == obj.content] or [tag for tag, _ in obj.content_map]
        return obj.content, keys[0] if keys else default
    for tag, text in obj.content_map:
        if tag == default:
            return text, tag
    if obj.content_map:
        return obj.content_map[0][1], obj.content_map[0][0]
    return None, default


def _content_html(content: str, media_type: str | None) -> str:
    if media_type is None or media_type.split(";")[0].strip() == "text/html":
        return content
    return _escaped(content)


def _escaped(text: str) -> str:
    """Plain text as HTML: paragraphs at blank lines, breaks at single ones."""
    paragraphs = [part.strip("\n") for part in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in paragraphs if part.strip())


def _plain(summary: str | None) -> str | None:
    if summary is None:
        return None
    text = html_to_text(sanitize_html(summary))
    return text or None


def _page_url(obj: ASObject) -> str | None:
    """Where people read the original: the first web link that is not media, else the id."""
    for ref in obj.url:
        mime = None if isinstance(ref, str) else ref.media_type
        url = web_iri(iri_of(ref))
        if url is not None and (mime is None or mime.split(";")[0] == "text/html"):
            if isinstance(ref, str) and obj.has_type("Image", "Video", "Audio") and obj.media_type:
                continue  # the url of a bare Image is the image itself
            return url
    return web_iri(obj.id)


def _converted_html(obj: ASObject, kind: str, url: str | None) -> str:
    parts = []
    if obj.name or _first(obj.name_map):
        parts.append(f"<p><strong>{html.escape(obj.name or _first(obj.name_map) or '')}</strong></p>")
    summary = obj.summary if obj.summary is not None else _first(obj.summary_map)
    if summary:
        parts.append(_content_html(summary, None))
    if kind == "Event":
        parts.append(_event_line(obj))
    if url is not None:
        parts.append(f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>')
    return "".join(parts)


def _event_line(event: ASObject) -> str:
    when = [f"{moment:%Y-%m-%d %H:%M} UTC" for moment in (event.start_time, event.end_time) if moment]
    places = []
    for ref in event.location[:4]:
        name = ref if isinstance(ref, str) else ref.name or (ref.href if not isinstance(ref, ASObject) else None)
        if name:
            places.append(name)
    words = [" – ".join(when)] if when else []
    words += places
    return f"<p>{html.escape(' · '.join(words))}</p>" if words else ""


def _pictures(obj: ASObject, kind: str) -> tuple[Media, ...]:
    """A converted object's own picture: an Image's url, or another's icon/image."""
    if kind == "Image":
        images = media_of([ref for ref in obj.url if isinstance(ref, str) or ref.media_type is None
                           or ref.media_type.startswith("image/")], default_mime=obj.media_type)
        if images:
            return tuple(Media(url=m.url, mime=m.mime, alt=m.alt or obj.name, width=m.width or obj.width,
                               height=m.height or obj.height, blurhash=obj.blurhash) for m in images)
    pictures = media_of(obj.icon + obj.image)
    widest = max(pictures, key=lambda media: media.width or 0, default=None)
    return (Media(url=widest.url, mime=widest.mime, alt=widest.alt or obj.name, width=widest.width,
                  height=widest.height),) if widest else ()
