"""What the social service hands its faces: statuses with their people, notifications,
relationships, uploads, search results. Plain data; each face shapes it its own way
(the Mastodon API as entities, the web app as HTML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from weft.store.people import Person
from weft.store.statuses import StatusRow

__all__ = ["Attachment", "Boost", "Draft", "Notification", "Relationship", "RemoteMedia", "SearchResults", "Status",
           "Upload"]


@dataclass(frozen=True)
class Attachment:
    """An image of a post: blobs are served at ``/media/{blob}``, thumbnails at ``/media/{thumb}``."""

    id: str                        # the upload's id where this node made it, else the blob id
    blob: str
    thumb: str | None
    mime: str | None
    alt: str | None
    width: int | None
    height: int | None
    blurhash: str | None


@dataclass(frozen=True)
class RemoteMedia:
    """A Fediverse post's file as this server shows it (weft.social.remote_media).

    ``state`` says what a reader gets: ``cached`` (kept here: ``blob``, ``thumb``; the sizes
    are the kept file's), ``waiting`` (an image not fetched yet), ``failed`` (an image the
    cache will not keep: too large, not an image), ``hidden`` (server moderation rejects
    its domain's media: shown as a note, never linked) or ``linked`` (video, audio and the
    like, left on their server). ``url`` is where it lives (Mastodon's ``remote_url``);
    ``key`` names it at ``/media/remote/{key}`` while it waits.
    """

    url: str
    key: str
    state: str
    mime: str | None
    alt: str | None
    width: int | None
    height: int | None
    blurhash: str | None
    preview: str | None            # its server's preview image
    blob: str | None = None
    thumb: str | None = None


@dataclass(frozen=True)
class Boost:
    """Someone's boost of a status, as a timeline entry of its own."""

    id: int                        # a status id (time-ordered) for the boost itself
    entry_id: str
    by: Person
    ts: int


@dataclass(frozen=True)
class Status:
    """A post as one viewer sees it."""

    row: StatusRow
    author: Person
    mentioned: tuple[Person, ...]
    attachments: tuple[Attachment, ...]
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    boost: Boost | None = None     # set when this is someone's boost of ``row``
    reply_to_id: int | None = None       # the status id of the post this one answers, if held here
    reply_to_account: int | None = None  # and its author's identity row
    remote_media: tuple[RemoteMedia, ...] = ()   # a Fediverse post's files

    @property
    def id(self) -> int:
        return self.boost.id if self.boost is not None else self.row.id


@dataclass(frozen=True)
class Draft:
    """A post being written. ``visibility`` is weft's name (public, unlisted, followers,
    direct); None takes the account's default."""

    text: str
    visibility: str | None = None
    summary: str | None = None
    sensitive: bool = False
    reply_to: int | None = None    # a status id
    media_ids: tuple[int, ...] = ()
    expires_in_ms: int | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str                      # mention, reply, favourite, reblog, follow, follow_request
    ts: int
    actor: Person
    status: Status | None


@dataclass(frozen=True)
class Relationship:
    """The viewer's relation to ``person`` (Mastodon's Relationship entity)."""

    identity: int
    following: bool
    requested: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    requested_by: bool = False     # they asked to follow the viewer (locked), who has not answered


@dataclass(frozen=True)
class Upload:
    """An uploaded image of an account, before and after processing."""

    id: int
    state: str                     # processing | ready | failed
    blob: str | None
    thumb: str | None
    mime: str | None
    description: str | None
    meta: dict[str, Any]
    blurhash: str | None
    error: str | None


@dataclass(frozen=True)
class TagUse:
    day_start_ms: int
    uses: int
    accounts: int


@dataclass(frozen=True)
class Tag:
    name: str
    history: tuple[TagUse, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    accounts: list[Person] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)
