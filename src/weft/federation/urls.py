"""Where this site's ActivityPub documents live, and what a URL of ours names.

One module for the URL scheme (decision 0007), so that the actor documents, the inboxes,
the outbox workers and the object pages cannot disagree:

- a hosted account's actor: ``{base}/users/{username}``, its key ``…#main-key``, and
  ``/inbox``, ``/outbox``, ``/followers``, ``/following``, ``/collections/featured`` below it;
- the instance actor (a Service, signing fetches when authorized fetch is on): ``{base}/actor``;
- the shared inbox: ``{base}/inbox``;
- an entry as an object: ``{base}/objects/{entry id}`` (the base32 entry id every node
  agrees on); a post's Create activity: ``…/activity``. Entries that are activities
  themselves (a like, a boost, a follow, a block, a delete, an edit) are that activity
  at their own object URL.

Pure: strings in, strings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

from weft.core.ids import entry_id_text, is_entry_id, parse_entry_id

__all__ = [
    "ACTOR_COLLECTIONS",
    "INSTANCE_ACTOR_ID",
    "LocalRef",
    "activity_url",
    "actor_url",
    "collection_url",
    "instance_actor_url",
    "instance_key_id",
    "key_id",
    "local_ref",
    "object_url",
    "shared_inbox_url",
]

# actor_keys rows are keyed by identity row; the instance actor is no identity, so it takes
# the one id no identity row has.
INSTANCE_ACTOR_ID: Final = 0
ACTOR_COLLECTIONS: Final = ("inbox", "outbox", "followers", "following", "collections/featured")


def actor_url(base: str, username: str) -> str:
    return f"{base}/users/{username}"


def key_id(actor: str) -> str:
    return f"{actor}#main-key"


def collection_url(base: str, username: str, name: str) -> str:
    """``name`` is one of ACTOR_COLLECTIONS."""
    return f"{actor_url(base, username)}/{name}"


def instance_actor_url(base: str) -> str:
    return f"{base}/actor"


def instance_key_id(base: str) -> str:
    return key_id(instance_actor_url(base))


def shared_inbox_url(base: str) -> str:
    return f"{base}/inbox"


def object_url(base: str, entry_id: bytes) -> str:
    return f"{base}/objects/{entry_id_text(entry_id)}"


def activity_url(base: str, entry_id: bytes) -> str:
    """The Create (or Announce wrapper) around a post; the post itself is at object_url."""
    return f"{object_url(base, entry_id)}/activity"


@dataclass(frozen=True)
class LocalRef:
    """What a URL of this site names."""

    kind: Literal["actor", "collection", "instance_actor", "shared_inbox", "object", "activity", "profile"]
    username: str | None = None
    entry_id: bytes | None = None
    collection: str | None = None


def local_ref(base: str, url: str) -> LocalRef | None:
    """What ``url`` names on the site at ``base`` (``https://host[:port]``), or None if it is
    not ours or names nothing we serve. The fragment (``#main-key``) is ignored; the scheme
    and host compare without case, as URLs do."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() != base.lower():
        return None
    path = unquote(parts.path).rstrip("/")
    if path == "/actor":
        return LocalRef("instance_actor")
    if path == "/inbox":
        return LocalRef("shared_inbox")
    if path.startswith("/@") and "/" not in path[2:] and path[2:]:
        return LocalRef("profile", username=path[2:])
    if path.startswith("/users/"):
        name, _, rest = path[len("/users/"):].partition("/")
        if not name:
            return None
        if not rest:
            return LocalRef("actor", username=name)
        return LocalRef("collection", username=name, collection=rest) if rest in ACTOR_COLLECTIONS else None
    if path.startswith("/objects/"):
        text, _, rest = path[len("/objects/"):].partition("/")
        if not is_entry_id(text) or rest not in ("", "activity"):
            return None
        return LocalRef("object" if not rest else "activity", entry_id=parse_entry_id(text))
    return None
