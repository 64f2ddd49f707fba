"""The social service of hosted accounts: what a person does and sees, for every face.

The Mastodon API and the web app both go through here, so that a rule (who may see a
post, what a post may hold, what undoing a like publishes) is written once:

- ``statuses`` (reading): statuses as a viewer sees them, timelines, threads, edits.
- ``posting`` (writing): compose, edit, delete, like, boost, bookmark.
- ``following``: follow (and follow requests), block, mute, relationships.
- ``notices``: notifications and read markers.
- ``uploads``: images, processed in the background.
- ``search``: posts, people and hashtags by their words; trending hashtags.
- ``events``: live events for streams (new posts, edits, deletes, notifications).
- ``moderation``: the server's domain blocks and the reports made to its moderators.
- ``remote_media``: how Fediverse posts' files are shown (kept by the remote media cache, or not).
- ``moving``: aliases, moving an account to another, and followers following it there.

Every write is an entry signed by the account's web device and ingested like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weft.social.events import Events
from weft.social.following import Following
from weft.social.freshness import PageCache
from weft.social.model import (
    Attachment,
    Boost,
    Draft,
    Notification,
    Relationship,
    SearchResults,
    Status,
    Tag,
    TagUse,
    Upload,
)
from weft.social.moderation import Moderation
from weft.social.moving import Moving
from weft.social.notices import Notices
from weft.social.reading import People, Reader
from weft.social.remote_media import RemoteMediaViews
from weft.social.search import Search
from weft.social.uploads import Uploads
from weft.social.writing import MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS, MAX_SUMMARY_CHARS, Posting

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["MAX_CHARACTERS", "MAX_MEDIA_ATTACHMENTS", "MAX_SUMMARY_CHARS", "Attachment", "Boost", "Draft",
           "Notification", "People", "Relationship", "SearchResults", "Social", "Status", "Tag", "TagUse",
           "Upload"]


class Social:
    """One site's social service. ``site.social`` holds the one a running server uses."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.statuses = Reader(site.node)
        self.posting = Posting(site, self.statuses)
        self.following = Following(site)
        self.notices = Notices(site.node, self.statuses)
        self.uploads = Uploads(site)
        self.search = Search(site, self.statuses)
        self.events = Events(site.node, self.statuses)   # live events (weft.social.events)
        self.pages = PageCache(site.node)                # timeline pages kept while fresh
        self.moderation = Moderation(site)               # domain blocks and reports
        self.moving = Moving(site)                       # account migration (decision 0007)
        self.remote_media = RemoteMediaViews(site)           # Fediverse files, kept here or not
        self.statuses.silenced_domains = self.moderation.silenced_domains
        self.statuses.media = self.remote_media
        self.posting.on_private_change = self.pages.bump

    async def close(self) -> None:
        self.pages.close()
        await self.events.close()
        await self.uploads.close()
