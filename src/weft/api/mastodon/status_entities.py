"""Mastodon's entities of posts: Status, MediaAttachment, StatusEdit, StatusSource, Context,
Notification and Marker, built from what :mod:`weft.social` hands over.

Pure: a value of the social service and the site's base URL in, a JSON-ready dict out, so
the client API and the streaming API shape a post the same way.

- Ids are strings of decimal numbers, as Mastodon's. A status id is time-ordered
  (``weft.store.statuses.status_id``); a boost has an id of its own, and its entity wraps
  the boosted post in ``reblog``.
- ``content`` is HTML from ``weft.core.text.render_html``: mentions of the people the post
  names (whom this node knows) link to ``{base}/@handle``, hashtags to ``{base}/tags/name``;
  any other mention stays text. A deleted or expired post shows no text at all.
- A Fediverse post's ``content`` is its HTML, sanitized again here (weft.core.html)
  whatever was stored; its ``uri`` is its object IRI and ``url`` its page there (else the
  IRI). Its images are served from here (``url``, ``preview_url``), as the remote media
  cache keeps them or through ``/media/remote/{key}`` until it does; ``remote_url`` names
  the original (see :func:`remote_media_entity`).
  A post written here has ``uri`` ``{base}/objects/{entry id}``, its
  ActivityPub object (weft.federation.urls.object_url, which this face may not import:
  the same f-string, kept in step by the tests).
- Mentions of Fediverse people link to their profile pages there.
- ``text`` (the plain source) is only in the answer to a delete, for "delete and redraft",
  and in StatusSource, as Mastodon does.
- weft's notification kind ``reply`` is a ``mention`` to Mastodon clients, which know no other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from weft.api.mastodon.entities import MASTODON_VISIBILITY, account_entity, handle_of, iso_time
from weft.core.html import sanitize_html
from weft.core.text import render_html

if TYPE_CHECKING:
    from weft.social.model import Attachment, Notification, RemoteMedia, Status, Upload
    from weft.store.notices import Marker
    from weft.store.people import Person

__all__ = ["MASTODON_VISIBILITY", "NOTIFICATION_TYPES", "WEFT_VISIBILITY", "context_entity",
           "marker_entity", "media_entity", "notification_entity", "notification_type", "object_uri", "person_url",
           "remote_media_entity", "status_edit_entities", "status_entity", "status_source_entity", "status_url",
           "upload_entity"]

WEFT_VISIBILITY: Final = {mastodon: weft for weft, mastodon in MASTODON_VISIBILITY.items()}

# weft's notification kinds as Mastodon names them.
NOTIFICATION_TYPES: Final = {"mention": "mention", "reply": "mention", "favourite": "favourite",
                             "reblog": "reblog", "follow": "follow", "follow_request": "follow_request"}


def status_url(person: Person, status_id: int, base_url: str) -> str:
    """A status's page: ``{base}/@handle/{id}``."""
    return f"{base_url}/@{handle_of(person)}/{status_id}"


def object_uri(entry_id: str, base_url: str) -> str:
    """The ActivityPub object of an entry written here (weft.federation.urls.object_url)."""
    return f"{base_url}/objects/{entry_id}"


def person_url(person: Person, base_url: str) -> str:
    """Where a person's profile is: their page there for a Fediverse person, else here."""
    return person.remote.url if person.remote is not None else f"{base_url}/@{handle_of(person)}"


def _content(status: Status, base_url: str) -> str:
    text = status.row.text
    if status.row.html and text is not None:
        return sanitize_html(status.row.html)
    if not text:
        return ""
    host = urlsplit(base_url).netloc.lower()
    known = {handle_of(person).lower(): person for person in (*status.mentioned, status.author)}

    def mention_href(user: str, mention_host: str | None) -> str | None:
        if mention_host is not None and mention_host.lower() != host:
            person = known.get(f"{user}@{mention_host}".lower())
            return None if person is None or person.remote is None else person.remote.url
        person = known.get(user.lower())
        return None if person is None else person_url(person, base_url)

    return render_html(text, mention_href=mention_href, tag_href=lambda name: f"{base_url}/tags/{name}")


def _size(width: Any, height: Any) -> dict[str, Any] | None:
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def media_entity(attachment: Attachment, base_url: str) -> dict[str, Any]:
    """The MediaAttachment of an image a post carries."""
    url = f"{base_url}/media/{attachment.blob}"
    original = _size(attachment.width, attachment.height)
    return {
        "id": attachment.id,
        "type": "image" if (attachment.mime or "image/").startswith("image/") else "unknown",
        "url": url,
        "preview_url": f"{base_url}/media/{attachment.thumb}" if attachment.thumb else url,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {} if original is None else {"original": original},
        "description": attachment.alt,
        "blurhash": attachment.blurhash,
    }


_MEDIA_TYPES: Final = (("image/gif", "gifv"), ("image/", "image"), ("video/", "video"), ("audio/", "audio"))


def remote_media_entity(media: RemoteMedia, index: int, row_id: int, base_url: str) -> dict[str, Any]:
    """The MediaAttachment of a Fediverse post's file; ``remote_url`` is always the original.

    - kept here (``cached``): ``url`` and ``preview_url`` are the files here;
    - an image not kept yet (``waiting``): ``{base}/media/remote/{key}`` (and ``…/small``),
      which fetches it then (Mastodon's media proxy), so clients never ask its server;
    - refused by the cache (``failed``: too large, not an image): type ``unknown``, ``url``
      the original, to be opened there as Mastodon's clients do with unknown files;
    - its domain's media rejected here (``hidden``): type ``unknown`` and no ``url`` at all;
    - video, audio (``linked``): left on their server.
    """
    kind = next((name for prefix, name in _MEDIA_TYPES if (media.mime or "").startswith(prefix)), "unknown")
    url: str | None = media.url
    preview: str | None = media.preview or media.url
    if media.state == "cached":
        kind, url = "image", f"{base_url}/media/{media.blob}"
        preview = f"{base_url}/media/{media.thumb or media.blob}"
    elif media.state == "waiting":
        kind, url = "image", f"{base_url}/media/remote/{media.key}"
        preview = f"{url}/small"
    elif media.state == "failed":
        kind, preview = "unknown", None
    elif media.state == "hidden":
        kind, url, preview = "unknown", None, None
    original = None if media.state == "hidden" else _size(media.width, media.height)
    return {
        "id": f"{row_id}{index:02d}",
        "type": kind,
        "url": url,
        "preview_url": preview,
        "remote_url": media.url,
        "preview_remote_url": None if media.state == "hidden" else media.preview,
        "text_url": None,
        "meta": {} if original is None else {"original": original},
        "description": media.alt,
        "blurhash": None if media.state == "hidden" else media.blurhash,
    }


def _media(status: Status, base_url: str) -> list[dict[str, Any]]:
    """A post's images kept here, then the files of a Fediverse post (weft.social.remote_media)."""
    return ([media_entity(a, base_url) for a in status.attachments]
            + [remote_media_entity(item, index, status.row.row, base_url)
               for index, item in enumerate(status.remote_media)])


def upload_entity(upload: Upload, base_url: str) -> dict[str, Any]:
    """The MediaAttachment of an upload: ``url`` is null until it is processed."""
    ready = upload.state == "ready" and upload.blob is not None
    return {
        "id": str(upload.id),
        "type": "image" if ready or upload.state == "processing" else "unknown",
        "url": f"{base_url}/media/{upload.blob}" if ready else None,
        "preview_url": f"{base_url}/media/{upload.thumb or upload.blob}" if ready else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": dict(upload.meta) if ready else {},
        "description": upload.description,
        "blurhash": upload.blurhash if ready else None,
    }


def _mention(person: Person, base_url: str) -> dict[str, str]:
    handle = handle_of(person)
    return {"id": str(person.identity), "username": handle.partition("@")[0], "url": person_url(person, base_url),
            "acct": handle}


def _own(status: Status, base_url: str) -> dict[str, Any]:
    """The entity of the post itself (no boost around it)."""
    row = status.row
    url = status_url(status.author, row.id, base_url)
    uri = object_uri(row.entry_id, base_url)
    if row.origin is not None:   # a Fediverse post: where it lives
        uri, url = row.origin, row.url or row.origin
    gone = row.text is None
    return {
        "id": str(row.id),
        "uri": uri,
        "url": url,
        "created_at": iso_time(row.ts),
        "edited_at": None if row.edited_ts is None else iso_time(row.edited_ts),
        "account": account_entity(status.author, base_url),
        "content": _content(status, base_url),
        "visibility": MASTODON_VISIBILITY.get(row.visibility, "public"),
        "sensitive": row.sensitive,
        "spoiler_text": "" if gone else (row.summary or ""),
        "media_attachments": [] if gone else _media(status, base_url),
        "application": None,
        "mentions": [_mention(person, base_url) for person in status.mentioned],
        "tags": [{"name": name, "url": f"{base_url}/tags/{name}"} for name in row.tags],
        "emojis": [],
        "reblogs_count": row.boosts,
        "favourites_count": row.likes,
        "replies_count": row.replies,
        "in_reply_to_id": None if status.reply_to_id is None else str(status.reply_to_id),
        "in_reply_to_account_id": None if status.reply_to_account is None else str(status.reply_to_account),
        "reblog": None,
        "poll": None,
        "card": None,
        "language": row.lang,
        "favourited": status.favourited,
        "reblogged": status.reblogged,
        "muted": False,
        "bookmarked": status.bookmarked,
        "pinned": False,
        "filtered": [],
    }


def status_entity(status: Status, base_url: str, *, with_source: bool = False) -> dict[str, Any]:
    """The Status entity as the viewer the service read it for sees it. A boost is a
    status of its own whose ``reblog`` is the boosted post; ``with_source`` adds ``text``
    (the answer to a delete)."""
    own = _own(status, base_url)
    if with_source:
        own["text"] = status.row.text or ""
    boost = status.boost
    if boost is None:
        return own
    booster = status_url(boost.by, boost.id, base_url)
    return {
        **own,
        "id": str(boost.id),
        "uri": object_uri(boost.entry_id, base_url),
        "url": booster,
        "created_at": iso_time(boost.ts),
        "edited_at": None,
        "account": account_entity(boost.by, base_url),
        "content": "",
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": own,
        "language": None,
    }


def status_source_entity(status: Status) -> dict[str, Any]:
    """StatusSource: what the author wrote, for editing."""
    return {"id": str(status.row.id), "text": status.row.text or "", "spoiler_text": status.row.summary or ""}


def status_edit_entities(status: Status, versions: Sequence[dict[str, Any]], base_url: str) -> list[dict[str, Any]]:
    """StatusEdit entities, oldest first, of the versions ``Reader.history`` gives.

    Images cannot be changed by an edit in weft, so every version shows the post's images.
    """
    account = account_entity(status.author, base_url)
    media = _media(status, base_url)
    edits = []
    for version in versions:
        text = version.get("text")
        shown = status.row.text is not None and isinstance(text, str)
        edits.append({
            "content": _content(_with_text(status, text), base_url) if shown else "",
            "spoiler_text": (version.get("summary") or "") if shown else "",
            "sensitive": bool(version.get("sensitive", status.row.sensitive)),
            "created_at": iso_time(int(version["ts"])),
            "account": account,
            "poll": None,
            "media_attachments": media if shown else [],
            "emojis": [],
        })
    return edits


def _with_text(status: Status, text: str | None) -> Status:
    # A Fediverse post's HTML is of its newest version: older ones show their plain text.
    html = status.row.html if text == status.row.text else None
    return replace(status, row=replace(status.row, text=text, html=html))


def context_entity(ancestors: Sequence[Status], descendants: Sequence[Status], base_url: str) -> dict[str, Any]:
    """Context: the thread around a status, as the viewer may see it."""
    return {"ancestors": [status_entity(s, base_url) for s in ancestors],
            "descendants": [status_entity(s, base_url) for s in descendants]}


def notification_type(kind: str) -> str:
    """Mastodon's name of a weft notification kind."""
    return NOTIFICATION_TYPES.get(kind, kind)


def notification_entity(note: Notification, base_url: str) -> dict[str, Any]:
    """The Notification entity: ``status`` for those about a post, else null."""
    return {
        "id": str(note.id),
        "type": notification_type(note.kind),
        "group_key": f"ungrouped-{note.id}",
        "created_at": iso_time(note.ts),
        "account": account_entity(note.actor, base_url),
        "status": None if note.status is None else status_entity(note.status, base_url),
    }


def marker_entity(markers: Sequence[Marker]) -> dict[str, Any]:
    """Markers by timeline: ``{"home": {"last_read_id", "version", "updated_at"}}``."""
    return {marker.timeline: {"last_read_id": marker.last_read_id, "version": marker.version,
                              "updated_at": iso_time(marker.updated_at)} for marker in markers}
