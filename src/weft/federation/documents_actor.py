"""The actor document of a hosted account, from plain values: what ``GET /users/{name}``
serves and what an ``Update(Person)`` carries, so the two never disagree.

Mastodon's shape (:mod:`weft.federation.as2_build_actors`) plus the identity's DID as
``weft:did`` (decision 0007): a weft node that fetches the actor can follow the identity by
its self-certifying id rather than by the host. The DID is not in ``alsoKnownAs``, which
Mastodon reads as the accounts an account moved from: that is the profile's ``aliases``, and
``movedTo`` is where the account's newest ``move`` went (decision 0007, "Migration"). The bio and profile fields are
rendered by :func:`weft.core.text.render_html`, as the client API renders them.

Pure: values in, a JSON-ready dict out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from weft.core.blob_names import media_digest
from weft.core.text import render_html
from weft.federation.as2_build import CONTEXT
from weft.federation.as2_build_actors import ActorFields, person, service
from weft.federation.remote_objects_parts import Media, web_iri
from weft.federation.urls import actor_url, collection_url, shared_inbox_url

__all__ = ["WEFT_NS", "AccountFacts", "account_actor", "bio_html", "moment"]

# The namespace of weft's own terms in JSON-LD (decision 0007).
WEFT_NS: Final = "https://github.com/weft-social/weft/blob/main/docs/decisions/0007-federation.md#"
_CONTEXT: Final[list[Any]] = [*CONTEXT[:-1], {**CONTEXT[-1], "weft": WEFT_NS}]


@dataclass(frozen=True, kw_only=True)
class AccountFacts:
    """What an actor document is made of: the account, its newest profile, its key."""

    username: str
    did: str
    created_at: int                    # ms
    profile: Mapping[str, Any]         # the newest profile entry's content
    public_key_pem: str                # "" while the account has no key yet
    discoverable: bool = False
    also_known_as: Sequence[str] = field(default_factory=tuple)   # the profile's aliases
    moved_to: str | None = None        # the actor the account moved to (its newest move)


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _text(profile: Mapping[str, Any], key: str) -> str | None:
    value = profile.get(key)
    return value if isinstance(value, str) and value else None


def bio_html(text: str, base: str) -> str:
    """A bio or a profile field as the client API shows it: links and hashtags, no mentions."""
    return render_html(text, mention_href=lambda _user, _host: None, tag_href=lambda name: f"{base}/tags/{name}")


def _field_value(value: str, base: str) -> str:
    rendered = bio_html(value, base)
    if rendered.startswith("<p>") and rendered.endswith("</p>") and "</p><p>" not in rendered:
        return rendered[3:-4]   # one paragraph reads as a line, as Mastodon's field values do
    return rendered


def _fields(profile: Mapping[str, Any], base: str) -> tuple[tuple[str, str], ...]:
    pairs = profile.get("fields")
    if not isinstance(pairs, list):
        return ()
    return tuple((html.escape(pair[0]), _field_value(pair[1], base)) for pair in pairs
                 if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair))


def _image(base: str, profile: Mapping[str, Any], key: str) -> Media | None:
    # Only http(s) URLs, as the client API takes them (an upload is kept as {base}/media/{digest}):
    # one naming any node's /media/ is served from here, where an arrived account's files came.
    digest = media_digest(profile.get(key))
    url = f"{base}/media/{digest}" if digest is not None else web_iri(_text(profile, key))
    return None if url is None else Media(url=url)


def account_actor(base: str, facts: AccountFacts) -> dict[str, Any]:
    """The Person (a Service when the profile says ``bot``) of a hosted account."""
    profile = facts.profile
    actor = actor_url(base, facts.username)
    bio = _text(profile, "bio")
    fields = ActorFields(
        id=actor, username=facts.username, inbox=collection_url(base, facts.username, "inbox"),
        outbox=collection_url(base, facts.username, "outbox"),
        followers=collection_url(base, facts.username, "followers"),
        following=collection_url(base, facts.username, "following"),
        featured=collection_url(base, facts.username, "collections/featured"),
        shared_inbox=shared_inbox_url(base), public_key_pem=facts.public_key_pem,
        name=_text(profile, "name") or "", summary=bio_html(bio, base) if bio else "",
        url=f"{base}/@{facts.username}", icon=_image(base, profile, "avatar"), image=_image(base, profile, "header"),
        fields=_fields(profile, base), also_known_as=tuple(facts.also_known_as), moved_to=facts.moved_to,
        manually_approves_followers=profile.get("locked") is True, discoverable=facts.discoverable,
        published=moment(facts.created_at - facts.created_at % 86_400_000))
    document = service(fields) if profile.get("bot") is True else person(fields)
    # Mastodon serves alsoKnownAs only when there is one; we keep the place for it, empty.
    document.setdefault("alsoKnownAs", [])
    if not facts.public_key_pem:
        # Not made yet (ActorKeys makes it before serving or signing): an empty key would
        # replace the one a server holds, so none is said.
        del document["publicKey"]
    return {**document, "@context": _CONTEXT, "weft:did": facts.did}
