"""RSS 2.0 and Atom feeds of each hosted account's public posts: ``/@alice.rss``,
``/@alice.atom``, and ``/users/alice.rss`` as Mastodon has it.

A feed holds the 20 newest posts anyone may see (public and unlisted, never followers-only
or direct; the rule is weft.store.statuses.visible_to, applied by weft.social with no
viewer), alive and as last edited. A post's HTML is core.text's, which escapes what people
typed; the XML is built with ElementTree, which escapes it again as text, after characters
XML 1.0 cannot hold (most control characters) are replaced, so the file stays well-formed
whatever a post says. A content warning is the item's title (and the Atom summary), never
the text. Image attachments are enclosures, with their length when this node holds the file.

Building the XML is pure (:func:`rss_xml`, :func:`atom_xml`); :func:`account_feed` reads.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Final
from urllib.parse import quote
from xml.etree.ElementTree import Element, SubElement, tostring

from starlette.requests import Request
from starlette.responses import Response

from weft import __version__
from weft.core.text import render_html
from weft.errors import NotFound
from weft.media.blobs import BlobStore
from weft.media.errors import MediaError
from weft.site import Site
from weft.social import Status
from weft.store.statuses import Page

__all__ = ["FEED_SIZE", "Enclosure", "Feed", "Item", "account_feed", "atom", "atom_xml", "rss", "rss_xml"]

FEED_SIZE: Final = 20
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
RSS_TYPE: Final = "application/rss+xml; charset=utf-8"
ATOM_TYPE: Final = "application/atom+xml; charset=utf-8"
# Shared caches may keep a feed a minute: readers poll, and a feed shows only public posts.
FEED_HEADERS: Final = {"cache-control": "public, max-age=60"}
# What XML 1.0 cannot carry (its Char production): C0 controls but tab and newlines,
# surrogates, U+FFFE and U+FFFF.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Enclosure:
    url: str
    mime: str
    length: int | None            # None when this node does not hold the file


@dataclass(frozen=True)
class Item:
    url: str                      # {base_url}/@username/{status id}: also the guid / id
    published: int                # ms
    updated: int                  # ms: the last edit, else the post
    warning: str | None           # the content warning, if any
    html: str
    enclosures: tuple[Enclosure, ...]


@dataclass(frozen=True)
class Feed:
    name: str                     # the display name, else the username
    description: str
    profile_url: str              # {base_url}/@username
    rss_url: str
    atom_url: str
    updated: int                  # ms: the newest item's update, else the account's creation
    items: tuple[Item, ...]


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    """A child element whose text and attributes XML 1.0 can hold (ElementTree escapes them)."""
    child = SubElement(parent, tag, {name: _clean(value) for name, value in attrs.items()})
    if text is not None:
        child.text = _clean(text)
    return child


def _rfc822(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC), usegmt=True)


def _rfc3339(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _xml(root: Element) -> bytes:
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def rss_xml(feed: Feed) -> bytes:
    """The feed as RSS 2.0 (with an atom:link to itself, as RSS validators ask)."""
    rss = Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", feed.name)
    _sub(channel, "link", feed.profile_url)
    _sub(channel, "description", feed.description)
    _sub(channel, "atom:link", href=feed.rss_url, rel="self", type="application/rss+xml")
    _sub(channel, "lastBuildDate", _rfc822(feed.updated))
    _sub(channel, "generator", f"weft {__version__}")
    for item in feed.items:
        entry = _sub(channel, "item")
        _sub(entry, "guid", item.url, isPermaLink="true")
        _sub(entry, "link", item.url)
        _sub(entry, "pubDate", _rfc822(item.published))
        if item.warning:
            _sub(entry, "title", item.warning)
        _sub(entry, "description", item.html)
        for enclosure in item.enclosures:
            # RSS requires a length; 0 says "unknown", as the RSS Advisory Board advises.
            _sub(entry, "enclosure", url=enclosure.url, type=enclosure.mime,
                 length=str(enclosure.length if enclosure.length is not None else 0))
    return _xml(rss)


def atom_xml(feed: Feed) -> bytes:
    """The feed as Atom 1.0 (RFC 4287)."""
    root = Element("feed", {"xmlns": ATOM_NS})
    _sub(root, "id", feed.atom_url)
    _sub(root, "title", feed.name)
    _sub(root, "subtitle", feed.description)
    _sub(root, "updated", _rfc3339(feed.updated))
    _sub(root, "link", rel="alternate", type="text/html", href=feed.profile_url)
    _sub(root, "link", rel="self", type="application/atom+xml", href=feed.atom_url)
    author = _sub(root, "author")
    _sub(author, "name", feed.name)
    _sub(author, "uri", feed.profile_url)
    _sub(root, "generator", "weft", version=__version__)
    for item in feed.items:
        entry = _sub(root, "entry")
        _sub(entry, "id", item.url)
        _sub(entry, "title", item.warning or f"New post by {feed.name}")
        _sub(entry, "published", _rfc3339(item.published))
        _sub(entry, "updated", _rfc3339(item.updated))
        _sub(entry, "link", rel="alternate", type="text/html", href=item.url)
        if item.warning:
            _sub(entry, "summary", item.warning, type="text")
        _sub(entry, "content", item.html, type="html")
        for enclosure in item.enclosures:
            attrs = {"rel": "enclosure", "type": enclosure.mime, "href": enclosure.url}
            if enclosure.length is not None:
                attrs["length"] = str(enclosure.length)
            _sub(entry, "link", **attrs)
    return _xml(root)


# -- reading ---------------------------------------------------------------------------


def _sizes(blobs: BlobStore, digests: set[str]) -> dict[str, int]:
    """The lengths of the files this store holds among ``digests`` (blocking: run in a thread)."""
    sizes = {}
    for digest in digests:
        try:
            sizes[digest] = blobs.size(digest)
        except (NotFound, MediaError):  # not held here, or not a digest at all
            continue
    return sizes


def _images(status: Status) -> list[tuple[str, str]]:
    return [(attachment.blob, attachment.mime) for attachment in status.attachments
            if attachment.mime is not None and attachment.mime.startswith("image/")]


def _item(site: Site, username: str, status: Status, sizes: dict[str, int]) -> Item:
    row = status.row
    # A mention links to a person of this site whom the post names; others stay text.
    local = {person.username.lower(): person.username for person in status.mentioned if person.username}

    def mention_href(user: str, host: str | None) -> str | None:
        here = host is None or host == site.host.lower()
        return f"{site.base_url}/@{local[user.lower()]}" if here and user.lower() in local else None

    html = render_html(row.text or "", mention_href=mention_href,
                       tag_href=lambda name: f"{site.base_url}/tags/{quote(name, safe='')}")
    return Item(
        url=f"{site.base_url}/@{username}/{row.id}", published=row.ts, updated=row.edited_ts or row.ts,
        warning=row.summary or None, html=html,
        enclosures=tuple(Enclosure(f"{site.base_url}/media/{blob}", mime, sizes.get(blob))
                         for blob, mime in _images(status)))


async def account_feed(site: Site, username: str) -> Feed:
    """The feed of the active account ``username``; NotFound for any other name."""
    account = await site.accounts.by_username(username)
    if account.state != "active":
        raise NotFound(f"no account @{username[:40]} on this server")
    profile = (await site.node.profile(account.did))["profile"]
    name = profile.get("name") if isinstance(profile.get("name"), str) and profile["name"].strip() else None
    bio = profile.get("bio") if isinstance(profile.get("bio"), str) and profile["bio"].strip() else None
    statuses = await site.social.statuses.timeline(None, "account", Page(limit=FEED_SIZE),
                                                   account=account.identity)
    shown = [status for status in statuses if status.row.text is not None]
    digests = {blob for status in shown for blob, _ in _images(status)}
    sizes = await asyncio.to_thread(_sizes, site.blobs, digests) if digests else {}
    items = tuple(_item(site, account.username, status, sizes) for status in shown)
    profile_url = f"{site.base_url}/@{account.username}"
    return Feed(
        name=name or account.username,
        description=bio or f"Public posts of @{account.username}@{site.host}",
        profile_url=profile_url, rss_url=f"{profile_url}.rss", atom_url=f"{profile_url}.atom",
        updated=max((item.updated for item in items), default=account.created_at), items=items)


async def rss(request: Request, site: Site) -> Response:
    feed = await account_feed(site, request.path_params["username"])
    return Response(rss_xml(feed), media_type=RSS_TYPE, headers=FEED_HEADERS)


async def atom(request: Request, site: Site) -> Response:
    feed = await account_feed(site, request.path_params["username"])
    return Response(atom_xml(feed), media_type=ATOM_TYPE, headers=FEED_HEADERS)
