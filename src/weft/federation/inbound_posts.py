"""A remote post's weft content, without I/O: :class:`RemotePost` (the display form) in,
a ``post`` or ``edit`` content object out, within weft content's limits.

Whom a post names is the caller's to say (``mentions``: actor IRIs, with this node's own
actors already turned into their DIDs), as are ``reply_to`` and ``root`` (entry ids held
here). What does not fit is cut rather than refused: HTML beyond 48,000 characters (then
sanitized again, so that no tag is left open), text beyond 16,000, attachments whose
fields break the rules of remote attachments are left out. Content over 64 KiB after
that loses its HTML, keeping its text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from weft.core.content import (
    MAX_ALT_CHARS,
    MAX_HTML_CHARS,
    MAX_TEXT_CHARS,
    ContentError,
    encode_content,
)
from weft.core.html import sanitize_html
from weft.core.ids import is_actor_iri
from weft.federation.remote_objects import Media, RemotePost

__all__ = ["attachment", "edit_content", "ms", "post_content"]

_MAX_SUMMARY: Final = 500
_MAX_TAG_CHARS: Final = 200


def ms(moment: datetime | None, now_ms: int) -> int:
    """A date in ms since the epoch, never later than now (ingest refuses the future), and
    now when there is none."""
    if moment is None:
        return now_ms
    return max(0, min(int(moment.timestamp() * 1000), now_ms))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


def attachment(media: Media) -> dict[str, Any] | None:
    """A remote attachment ``{url, preview?, mime?, alt?, width?, height?, blurhash?}``, or
    None when its URL is not one weft content accepts."""
    if not is_actor_iri(media.url):
        return None
    item: dict[str, Any] = {"url": media.url}
    if media.preview and is_actor_iri(media.preview):
        item["preview"] = media.preview
    if media.mime and len(media.mime) <= 100:
        item["mime"] = media.mime
    if media.alt:
        item["alt"] = _cut(media.alt, MAX_ALT_CHARS)
    for key, value in (("width", media.width), ("height", media.height)):
        if type(value) is int and 0 < value <= 100_000:
            item[key] = value
    if media.blurhash and len(media.blurhash) <= 100:
        item["blurhash"] = media.blurhash
    return item


def _fitted(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as is if it encodes, else without its HTML (the text stays)."""
    try:
        encode_content(content)
        return content
    except ContentError:
        if "html" not in content:
            raise
        return _fitted({key: value for key, value in content.items() if key != "html"})


def _body(post: RemotePost) -> dict[str, Any]:
    html = post.html if len(post.html) <= MAX_HTML_CHARS else sanitize_html(post.html[:MAX_HTML_CHARS])
    body: dict[str, Any] = {"text": _cut(post.text, MAX_TEXT_CHARS)}
    if html:
        body["html"] = _cut(html, MAX_HTML_CHARS)
    if post.summary:
        body["summary"] = _cut(post.summary, _MAX_SUMMARY)
    if post.sensitive or post.summary:
        body["sensitive"] = True
    return body


def post_content(post: RemotePost, *, mentions: list[str], reply_to: str | None = None,
                 root: str | None = None) -> dict[str, Any]:
    """The ``post`` content of ``post`` (see the module docstring)."""
    content: dict[str, Any] = {"type": "post", **_body(post), "visibility": post.visibility}
    if reply_to is not None:
        content["reply_to"] = reply_to
        content["root"] = root or reply_to
    people = [iri for iri in dict.fromkeys(mentions) if len(iri) <= 2048][:64]
    if people:
        content["mentions"] = people
    tags = [tag for tag in post.hashtags if len(tag) <= _MAX_TAG_CHARS][:64]
    if tags:
        content["tags"] = tags
    attachments = [item for item in map(attachment, post.attachments) if item is not None]
    if attachments:
        content["attachments"] = attachments
    if post.language:
        content["lang"] = post.language[:16]
    if post.url and is_actor_iri(post.url):
        content["url"] = post.url
    return _fitted(content)


def edit_content(post: RemotePost, target: str) -> dict[str, Any]:
    """The ``edit`` content that makes ``target`` (an entry id) show ``post`` as it is now."""
    return _fitted({"type": "edit", "target": target, **_body(post)})
