"""Statuses and people as the pages show them: plain values the templates read, with the
post's HTML made here (weft.core.text.render_html) from what a person typed.

The one exception is the Fediverse: a remote post's text and a remote person's bio come as
HTML, which is shown only as weft.core.html.sanitize_html leaves it (Mastodon's strict
allow-list: no scripts, styles, images or attributes beyond links), run here at every
render whatever the store holds. Their images are shown as the remote media cache keeps them
here (weft.social.remote_media), never from their servers: one not kept yet, or refused, is a
note with a link to the original; one of a domain whose media are rejected, a note alone.

URLs follow what every face shares: ``/@handle`` for a person (``/@user@host`` for a
Fediverse person), ``/@handle/{id}`` for a status, ``/tags/{name}`` for a tag,
``/media/{blob}`` for an image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from markupsafe import Markup

from weft.core.blob_names import media_digest
from weft.core.html import sanitize_html
from weft.core.text import render_html
from weft.social import Attachment, Status
from weft.social.model import RemoteMedia
from weft.social.names import handle_of
from weft.store.people import Person

__all__ = ["DEFAULT_AVATAR_PATH", "DEFAULT_HEADER_PATH", "VISIBILITY_LABELS", "ImageView", "MediaNote", "PersonView",
           "StatusView", "iso_time", "person_view", "status_view", "text_html"]

# Served by the Mastodon API's instance routes, which every site mounts.
DEFAULT_AVATAR_PATH: Final = "/avatars/original/missing.png"
DEFAULT_HEADER_PATH: Final = "/headers/original/missing.png"

_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
VISIBILITY_LABELS: Final = {"public": "Public", "unlisted": "Unlisted", "followers": "Followers only",
                            "direct": "Mentioned people only"}


def iso_time(ms: int) -> str:
    """For ``<time datetime>``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_url(profile: dict[str, Any], key: str, base_url: str) -> str | None:
    """An image a profile names: one of this site's media files (as the client API keeps
    uploaded avatars), or an https URL (the pages' policy allows https images); nothing else."""
    value = profile.get(key)
    if not isinstance(value, str):
        return None
    own = f"{base_url}/media/"
    if value.startswith(own) and _DIGEST.fullmatch(value[len(own):]):
        return value[len(base_url):]
    if value.lower().startswith("https://"):
        return value
    return None


def text_html(text: str, *, known: dict[str, str] | None = None, site_host: str = "") -> Markup:
    """A person's plain text as safe HTML: links, hashtags to their tag pages, and
    mentions of the people in ``known`` (lowercased handle -> handle) to their pages."""
    people = known or {}

    def mention_href(username: str, host: str | None) -> str | None:
        # @bob@elsewhere is not our bob: a mention of another server's person links to
        # their page here only if the post named them (``known`` holds ``bob@elsewhere``).
        if host is not None and host.lower() != site_host.lower():
            handle = people.get(f"{username}@{host}".lower())
            return f"/@{handle}" if handle else None
        handle = people.get(username.lower())
        return f"/@{handle}" if handle else None

    return Markup(render_html(text, mention_href=mention_href, tag_href=lambda name: f"/tags/{name}"))


def _person_image(person: Person, key: str, base_url: str) -> str | None:
    """A person's avatar or header: a Fediverse person's as the media cache keeps it (else none:
    the default is shown, and their server never hears of the reader), anyone else's as
    :func:`_image_url` allows."""
    if person.remote is not None:
        digest = person.avatar_media if key == "avatar" else person.header_media
        return f"/media/{digest}" if digest else None
    hosted = media_digest(person.profile.get(key)) if person.username is not None else None
    if hosted is not None:      # uploaded here, or on the node the account came from
        return f"/media/{hosted}"
    return _image_url(person.profile, key, base_url)


@dataclass(frozen=True)
class PersonView:
    identity: int
    handle: str
    name: str                  # the display name, else the handle
    url: str
    avatar: str
    header: str | None
    bio: Markup
    fields: tuple[tuple[str, Markup], ...]
    locked: bool
    bot: bool
    local: bool                # an account of this site
    followers: int
    following: int
    statuses: int
    remote_url: str | None = None   # a Fediverse person's profile on their server
    moved: PersonView | None = None  # where the person moved to


def person_view(person: Person, base_url: str) -> PersonView:
    profile = person.profile
    handle = handle_of(person)
    name = profile.get("name")
    bio = profile.get("bio")
    bio_html = profile.get("bio_html")
    pairs = profile.get("fields")
    pairs = pairs if isinstance(pairs, list) else []
    fields = tuple((pair[0], text_html(pair[1])) for pair in pairs
                   if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair))
    if person.remote is not None and isinstance(bio_html, str) and bio_html:
        shown_bio = Markup(sanitize_html(bio_html))   # sanitized just now, at render
    else:
        shown_bio = text_html(bio) if isinstance(bio, str) else Markup("")
    return PersonView(
        identity=person.identity, handle=handle,
        name=name.strip() if isinstance(name, str) and name.strip() else handle,
        url=f"/@{handle}", avatar=_person_image(person, "avatar", base_url) or DEFAULT_AVATAR_PATH,
        header=_person_image(person, "header", base_url), bio=shown_bio,
        fields=fields, locked=profile.get("locked") is True, bot=profile.get("bot") is True,
        local=person.username is not None, followers=person.followers, following=person.following,
        statuses=person.statuses, remote_url=person.remote.url if person.remote is not None else None,
        moved=person_view(person.moved, base_url) if person.moved is not None else None)


@dataclass(frozen=True)
class ImageView:
    src: str                   # the thumbnail if there is one
    full: str
    alt: str
    width: int | None
    height: int | None


def _image(attachment: Attachment) -> ImageView:
    return ImageView(src=f"/media/{attachment.thumb or attachment.blob}", full=f"/media/{attachment.blob}",
                     alt=attachment.alt or "", width=attachment.width, height=attachment.height)


@dataclass(frozen=True)
class MediaNote:
    """A Fediverse post's file shown as words: ``href`` is the original, None when it must not
    be offered (its domain's media are rejected here)."""

    text: str
    href: str | None
    alt: str


_NOTES: Final = {"waiting": "Media not yet cached here", "failed": "Media this server could not keep",
                 "linked": "Media on its own server", "hidden": "Media hidden by this server"}


def _cached_images(media: tuple[RemoteMedia, ...]) -> tuple[ImageView, ...]:
    """A Fediverse post's images kept here."""
    return tuple(ImageView(src=f"/media/{item.thumb or item.blob}", full=f"/media/{item.blob}", alt=item.alt or "",
                           width=item.width, height=item.height)
                 for item in media if item.state == "cached" and item.blob is not None)


def _media_notes(media: tuple[RemoteMedia, ...]) -> tuple[MediaNote, ...]:
    """A Fediverse post's files not kept here, as notes (a link to the original where allowed)."""
    return tuple(MediaNote(_NOTES[item.state], None if item.state == "hidden" else item.url, item.alt or "")
                 for item in media if item.state in _NOTES)


def _post_html(status: Status, known: dict[str, str], site_host: str) -> Markup:
    """A post's text as HTML: a Fediverse post's own HTML, sanitized now, else made from its text."""
    row = status.row
    if row.html and row.text is not None:
        return Markup(sanitize_html(row.html))   # sanitized just now, at render
    return text_html(row.text or "", known=known, site_host=site_host)


@dataclass(frozen=True)
class StatusView:
    id: int                    # the status id (of the post, not of a boost of it)
    url: str
    author: PersonView
    ts: int
    edited_ts: int | None
    expires: int | None
    html: Markup
    text: str                  # as written, for the edit form
    summary: str | None
    sensitive: bool
    visibility: str
    images: tuple[ImageView, ...]
    likes: int
    boosts: int
    replies: int
    favourited: bool
    reblogged: bool
    bookmarked: bool
    mine: bool
    boostable: bool
    is_reply: bool
    boosted_by: PersonView | None
    cursor: int = 0            # where the page after this status starts: a boost's own status id
    remote_url: str | None = None   # a Fediverse post's page on its server
    media_notes: tuple[MediaNote, ...] = ()   # its files not kept here

    @property
    def visibility_label(self) -> str:
        return VISIBILITY_LABELS.get(self.visibility, self.visibility)


def status_view(status: Status, viewer_identity: int | None, base_url: str) -> StatusView:
    """``status`` as ``viewer_identity`` sees it on the site at ``base_url``."""
    row = status.row
    author = person_view(status.author, base_url)
    site_host = urlsplit(base_url).netloc
    known = {handle_of(person).lower(): handle_of(person) for person in status.mentioned}
    return StatusView(
        id=row.id, url=f"{author.url}/{row.id}", author=author, ts=row.ts, edited_ts=row.edited_ts,
        expires=row.expires, html=_post_html(status, known, site_host), text=row.text or "",
        summary=row.summary or None, sensitive=row.sensitive, visibility=row.visibility,
        images=tuple(_image(a) for a in status.attachments) + _cached_images(status.remote_media),
        media_notes=_media_notes(status.remote_media),
        likes=row.likes, boosts=row.boosts,
        replies=row.replies, favourited=status.favourited, reblogged=status.reblogged,
        bookmarked=status.bookmarked, mine=viewer_identity == row.author,
        boostable=row.visibility in ("public", "unlisted"), is_reply=row.reply_to is not None,
        boosted_by=person_view(status.boost.by, base_url) if status.boost is not None else None,
        cursor=status.id, remote_url=(row.url or row.origin) if row.origin is not None else None)
