"""Mastodon's Account and Application entities, built from what the node holds.

Who is an account
-----------------
Every identity this node knows is an account of the client API, with the identity's
row id (``identities.id``) as its id, written as a string as Mastodon's ids are.

- An account this node hosts has its ``username`` as ``username`` and ``acct``, and
  ``{base_url}/@username`` as its URL.
- Any other identity (this node's own operator identity, a peer-to-peer identity it
  holds) is named by the **short form of its DID**: the first 16 characters of the
  base32 after ``did:weft:`` (80 bits, so two identities never share one in practice).
  Those are lowercase letters and digits, valid as a Mastodon username, and they never
  change, since a DID does not. ``acct`` is the same short form, with no ``@host``: the
  identity is not on another server, it is wherever its logs are.

- A Fediverse person (an actor of another server) is ``user@host`` as ``acct`` and
  ``user`` as ``username``; ``url`` is their profile page there and ``uri`` their actor
  IRI. ``note`` is their bio's HTML, sanitized again here (weft.core.html) whatever was
  stored; their counts are what this node holds of them.

Times are ISO 8601 in UTC with milliseconds and ``Z``. ``created_at`` is the day the
account was made (midnight), as Mastodon gives it; for an identity not hosted here, the
day of its genesis operation, or 1970-01-01 for one this node has only heard named (a
follow or a mention of it arrived, its identity log has not).

Avatars and headers are taken from a profile only when they are http(s) URLs; otherwise
the default images (``DEFAULT_AVATAR_PATH``, ``DEFAULT_HEADER_PATH``) are named. A Fediverse
person's are the files the remote media cache keeps here (weft.media.remote_cache), or the
defaults until it does: a client is never sent to their server.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from weft.core.blob_names import media_digest
from weft.core.html import sanitize_html
from weft.core.text import render_html
from weft.social.names import SHORT_DID_CHARS, handle_of, short_did

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.store.oauth import AppRow
    from weft.store.people import Person

__all__ = ["DEFAULT_AVATAR_PATH", "DEFAULT_HEADER_PATH", "MASTODON_VISIBILITY", "SHORT_DID_CHARS", "account_entity",
           "application_entity", "credential_account_entity", "handle_of", "iso_day", "iso_time",
           "short_did"]

DEFAULT_AVATAR_PATH: Final = "/avatars/original/missing.png"
DEFAULT_HEADER_PATH: Final = "/headers/original/missing.png"

# Mastodon's built-in roles: everyone (no permissions shown) and an administrator (bit 0).
_ROLES: Final = {
    "user": {"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": False},
    "admin": {"id": "3", "name": "Admin", "permissions": "1", "color": "", "highlighted": True},
}


# weft's visibility names, as account settings keep them, to Mastodon's.
MASTODON_VISIBILITY: Final = {"public": "public", "unlisted": "unlisted", "followers": "private",
                               "direct": "direct"}


def iso_time(ms: int) -> str:
    """``2027-01-15T08:00:00.000Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_day(ms: int) -> str:
    """``2027-01-15``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _midnight(ms: int) -> int:
    return ms - ms % 86_400_000


def _image(profile: dict[str, Any], key: str, base_url: str, default_path: str) -> str:
    # Only http(s) URLs are taken from a profile; uploads (blobs) come with their own route.
    value = profile.get(key)
    if isinstance(value, str) and value.lower().startswith(("https://", "http://")):
        return value
    return base_url + default_path


def _person_image(person: Person, key: str, base_url: str, default_path: str) -> str:
    if person.remote is not None:
        digest = person.avatar_media if key == "avatar" else person.header_media
        return f"{base_url}/media/{digest}" if digest else base_url + default_path
    hosted = media_digest(person.profile.get(key)) if person.username is not None else None
    if hosted is not None:      # uploaded here, or on the node the account came from
        return f"{base_url}/media/{hosted}"
    return _image(person.profile, key, base_url, default_path)


def _html(text: str, base_url: str) -> str:
    return render_html(text, mention_href=lambda _user, _host: None,
                       tag_href=lambda name: f"{base_url}/tags/{name}")


def _field_html(value: str, base_url: str) -> str:
    rendered = _html(value, base_url)
    # One paragraph reads as a line, as Mastodon's field values do; more keep their <p>s.
    if rendered.startswith("<p>") and rendered.endswith("</p>") and "</p><p>" not in rendered:
        return rendered[3:-4]
    return rendered


def _fields(profile: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = profile.get("fields")
    if not isinstance(pairs, list):
        return []
    return [(pair[0], pair[1]) for pair in pairs
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)]


def account_entity(person: Person, base_url: str) -> dict[str, Any]:
    """The Account entity of ``person``, as anyone may see it."""
    handle = handle_of(person)
    profile = person.profile
    bio = profile.get("bio") if isinstance(profile.get("bio"), str) else ""
    url = uri = f"{base_url}/@{handle}"
    username = handle
    note = _html(bio or "", base_url)
    if person.remote is not None:
        username = handle.partition("@")[0]
        url, uri = person.remote.url, person.remote.iri
        bio_html = profile.get("bio_html")
        if isinstance(bio_html, str) and bio_html:
            note = sanitize_html(bio_html)
    avatar = _person_image(person, "avatar", base_url, DEFAULT_AVATAR_PATH)
    header = _person_image(person, "header", base_url, DEFAULT_HEADER_PATH)
    name = profile.get("name")
    return {
        "id": str(person.identity),
        "username": username,
        "acct": handle,
        "display_name": name if isinstance(name, str) else "",
        "locked": profile.get("locked") is True,
        "bot": profile.get("bot") is True,
        "discoverable": person.account_settings.get("discoverable"),
        "indexable": False,
        "group": False,
        "created_at": iso_time(_midnight(person.created_at or 0)),
        "note": note,
        "url": url,
        "uri": uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": person.followers,
        "following_count": person.following,
        "statuses_count": person.statuses,
        "last_status_at": None if person.last_status_at is None else iso_day(person.last_status_at),
        "hide_collections": None,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [{"name": html.escape(name), "value": _field_html(value, base_url), "verified_at": None}
                   for name, value in _fields(profile)],
        # Mastodon names an account's new one only once it moved (the field is absent before).
        **({"moved": account_entity(person.moved, base_url)} if person.moved is not None else {}),
    }


def credential_account_entity(person: Person, account: Account, base_url: str) -> dict[str, Any]:
    """The Account entity its owner sees: with ``source`` (the plain text they wrote and
    their posting defaults) and their ``role``."""
    entity = account_entity(person, base_url)
    settings = account.settings
    bio = person.profile.get("bio")
    entity["source"] = {
        "privacy": MASTODON_VISIBILITY.get(settings.get("default_visibility", "public"), "public"),
        "sensitive": bool(settings.get("default_sensitive", False)),
        "language": settings.get("default_language"),
        "note": bio if isinstance(bio, str) else "",
        "fields": [{"name": name, "value": value, "verified_at": None}
                   for name, value in _fields(person.profile)],
        "follow_requests_count": person.follow_requests,
    }
    entity["role"] = dict(_ROLES["admin" if account.is_admin else "user"])
    return entity


def application_entity(app: AppRow, *, client_secret: str | None = None) -> dict[str, Any]:
    """The Application entity: with ``client_secret`` only when the app has just registered."""
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": "",
        "client_id": app.client_id,
    }
    if client_secret is not None:
        entity["client_secret"] = client_secret
        entity["client_secret_expires_at"] = 0
    return entity
