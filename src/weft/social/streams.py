"""What a live listener asks for (a :class:`Stream`) and what it is told (an :class:`Event`).

Streams carry Mastodon's names, which say what they hold well enough:

- ``user``: the viewer's home timeline (its own posts and those of whom it follows) and
  its notifications; ``user:notification``: the notifications alone;
- ``public`` and ``public:local`` (authors hosted here), and ``:media`` of each (posts
  with images);
- ``hashtag`` and ``hashtag:local``, with a tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

from weft.errors import UsageError
from weft.social.model import Notification, Status
from weft.store.social import MAX_TAG_CHARS, normal_tag
from weft.store.statuses import TimelineKind

__all__ = ["STREAM_NAMES", "Event", "EventKind", "Stream", "StreamName"]

StreamName = Literal["user", "user:notification", "public", "public:local", "public:media", "public:local:media",
                     "hashtag", "hashtag:local"]
STREAM_NAMES: Final = frozenset(get_args(StreamName))

EventKind = Literal["update", "status.update", "delete", "notification"]

# The timelines (weft.store.statuses) whose posts each stream carries: all of them at once.
_TIMELINES: Final[dict[str, tuple[TimelineKind, ...]]] = {
    "user": ("home",), "user:notification": (), "public": ("public",), "public:media": ("public",),
    "public:local": ("local",), "public:local:media": ("local",), "hashtag": ("tag",),
    "hashtag:local": ("tag", "local")}


@dataclass(frozen=True)
class Stream:
    """A stream a listener asks for; ``tag`` (without '#', lowercased) for hashtag streams."""

    name: StreamName
    tag: str | None = None

    @classmethod
    def named(cls, name: str, tag: str | None = None) -> Stream:
        """The stream ``name`` (with ``tag`` for hashtag streams); UsageError if there is none."""
        if name not in STREAM_NAMES:
            raise UsageError(f"unknown stream {name[:60]!r}")
        if not name.startswith("hashtag"):
            return cls(cast("StreamName", name))
        normal = normal_tag(tag or "")
        if normal is None:
            raise UsageError(f"the {name} stream needs a tag (a word of at most {MAX_TAG_CHARS} characters)")
        return cls(cast("StreamName", name), normal)

    @property
    def labels(self) -> list[str]:
        """How Mastodon names it in an event: ``["user"]``, ``["hashtag", "weft"]``."""
        return [self.name] if self.tag is None else [self.name, self.tag]

    @property
    def timelines(self) -> tuple[tuple[TimelineKind, str | None], ...]:
        """(timeline kind, tag) pairs a post must be in, all of them, to come by this stream;
        none for a stream of notifications alone."""
        return tuple((kind, self.tag if kind == "tag" else None) for kind in _TIMELINES[self.name])

    @property
    def notifications(self) -> bool:
        return self.name in ("user", "user:notification")

    @property
    def media_only(self) -> bool:
        return self.name.endswith(":media")


@dataclass(frozen=True)
class Event:
    """What one listener is told: ``status`` for update and status.update, ``status_id`` for
    delete, ``notification`` for notification; ``stream`` is which of its streams it came by."""

    kind: EventKind
    stream: Stream
    status: Status | None = None
    status_id: int | None = None
    notification: Notification | None = None
