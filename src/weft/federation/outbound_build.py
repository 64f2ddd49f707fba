"""A hosted person's entries as ActivityPub activities, from facts already read: pure.

:mod:`weft.federation.outbound` reads the facts from the store; here they become the
activity (Mastodon-shaped, through :mod:`weft.federation.as2_build`) and its
:class:`Audience`, the people who must receive it. Ids are the URLs of the entries
(:mod:`weft.federation.urls`): a post is ``/objects/{id}`` and its Create is
``…/activity``; every other entry is the activity at its own object URL. So an activity is
the same however often it is built, and a worker may rebuild it after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from weft.core.text import render_html, to_summary_html
from weft.federation import as2_build as build
from weft.federation.activitystreams_addressing import PUBLIC
from weft.federation.documents_actor import moment
from weft.federation.remote_objects_parts import Media, Mention
from weft.federation.urls import activity_url, actor_url, collection_url, object_url

__all__ = ["Audience", "Author", "OutboundActivity", "Party", "PostFacts", "announce", "follow_answer", "like",
           "move", "note", "post_create", "post_delete", "post_update", "profile_update", "relation",
           "undo_reaction"]


@dataclass(frozen=True)
class Audience:
    """Who must receive an activity: the author's remote followers, remote actors by IRI
    (hosted people already hold the entry), and whether it is public."""

    followers: bool = False
    people: tuple[str, ...] = ()
    public: bool = False


@dataclass(frozen=True)
class OutboundActivity:
    actor_identity: int       # the author's identity row (whose key signs the deliveries)
    actor: str                # the author's actor URL
    activity: dict[str, Any]  # JSON-LD with Mastodon's @context, ready for orjson
    audience: Audience


@dataclass(frozen=True)
class Author:
    """A hosted account that federates."""

    identity: int
    username: str
    did: str

    def actor(self, base: str) -> str:
        return actor_url(base, self.username)

    def followers(self, base: str) -> str:
        return collection_url(base, self.username, "followers")


@dataclass(frozen=True)
class Party:
    """Someone an entry names, as ActivityPub sees them: ``iri`` is their actor (ours for
    an account hosted here, theirs for a remote actor); ``handle`` is ``user@host`` when
    known; ``href`` is where a mention of them in a post's text links to."""

    iri: str
    remote: bool
    handle: str | None = None
    href: str | None = None

    @property
    def people(self) -> tuple[str, ...]:
        """The audience this party makes: a remote actor receives, a hosted one holds it already."""
        return (self.iri,) if self.remote else ()


@dataclass(frozen=True, kw_only=True)
class PostFacts:
    """A post as it now reads, with whom it names resolved (those without an actor left out)."""

    entry_id: bytes
    ts: int
    text: str
    visibility: str
    url: str                                  # its page on the web app
    summary: str | None = None
    sensitive: bool = False
    lang: str | None = None
    tags: tuple[str, ...] = ()                # normalized names
    attachments: tuple[Mapping[str, Any], ...] = ()
    mentioned: tuple[Party, ...] = ()
    in_reply_to: str | None = None            # the parent's IRI
    parent_author: Party | None = None
    edited_ts: int | None = None


def _mention_hrefs(mentioned: Sequence[Party], host: str) -> dict[tuple[str, str | None], str]:
    hrefs: dict[tuple[str, str | None], str] = {}
    for party in mentioned:
        if party.handle is None or party.href is None:
            continue
        user, _, their_host = party.handle.lower().partition("@")
        hrefs[(user, their_host)] = party.href
        if their_host == host:
            hrefs[(user, None)] = party.href
    return hrefs


def content_html(base: str, post: PostFacts) -> str:
    """The post's HTML, by the renderer the client API uses: mentions of the people it names
    link to them, hashtags to ``{base}/tags/name``, any other mention stays text."""
    host = urlsplit(base).netloc.lower()
    hrefs = _mention_hrefs(post.mentioned, host)
    return render_html(post.text, mention_href=lambda user, at: hrefs.get((user.lower(), at)),
                       tag_href=lambda name: f"{base}/tags/{name}")


def _media(base: str, item: Mapping[str, Any]) -> Media:
    def number(key: str) -> int | None:
        value = item.get(key)
        return value if type(value) is int else None

    def text(key: str) -> str | None:
        value = item.get(key)
        return value if isinstance(value, str) and value else None

    return Media(url=f"{base}/media/{item['blob']}", mime=text("mime"), alt=text("alt"), blurhash=text("blurhash"),
                 width=number("width"), height=number("height"))


def note(base: str, author: Author, post: PostFacts) -> dict[str, Any]:
    """The Note of a post, at its object URL."""
    mentions = [Mention(party.iri, "@" + party.handle if party.handle else None) for party in post.mentioned]
    return build.note(
        id=object_url(base, post.entry_id), author=author.actor(base), followers=author.followers(base),
        html=content_html(base, post), published=moment(post.ts), visibility=post.visibility, url=post.url,
        mentions=mentions, hashtags=[(name, f"{base}/tags/{name}") for name in post.tags],
        in_reply_to=post.in_reply_to, summary=to_summary_html(post.summary) if post.summary else None,
        sensitive=post.sensitive, language=post.lang,
        attachments=[_media(base, item) for item in post.attachments if isinstance(item.get("blob"), str)],
        updated=moment(post.edited_ts) if post.edited_ts is not None else None)


def _post_audience(post: PostFacts) -> Audience:
    people = [iri for party in post.mentioned for iri in party.people]
    if post.parent_author is not None and post.visibility != "direct":
        people += post.parent_author.people   # a reply reaches whom it answers, as on Mastodon
    return Audience(followers=post.visibility != "direct", people=tuple(dict.fromkeys(people)),
                    public=post.visibility in ("public", "unlisted"))


def _activity(author: Author, base: str, activity: dict[str, Any], audience: Audience) -> OutboundActivity:
    return OutboundActivity(author.identity, author.actor(base), activity, audience)


def post_create(base: str, author: Author, post: PostFacts) -> OutboundActivity:
    obj = note(base, author, post)
    return _activity(author, base, build.create(id=activity_url(base, post.entry_id), actor=author.actor(base),
                                                obj=obj), _post_audience(post))


def post_update(base: str, author: Author, post: PostFacts, edit_id: bytes, edit_ts: int) -> OutboundActivity:
    """An edit: Update of the Note as it now reads."""
    obj = note(base, author, post)
    return _activity(author, base, build.update(id=object_url(base, edit_id), actor=author.actor(base), obj=obj,
                                                published=moment(edit_ts)), _post_audience(post))


def post_delete(base: str, author: Author, delete_id: bytes, post_id: bytes, visibility: str,
                parent_author: Party | None, mentioned: Sequence[Party] = ()) -> OutboundActivity:
    """Delete of a post, as a Tombstone to Public (as Mastodon sends it), to whoever got the
    post: as :func:`post_create` reached them (followers unless direct, whom it mentioned,
    whom it answered unless direct)."""
    people = [iri for party in mentioned for iri in party.people]
    if parent_author is not None and visibility != "direct":
        people += parent_author.people
    audience = Audience(followers=visibility != "direct", people=tuple(dict.fromkeys(people)),
                        public=visibility in ("public", "unlisted"))
    return _activity(author, base, build.delete(id=object_url(base, delete_id), actor=author.actor(base),
                                                object_id=object_url(base, post_id)), audience)


def like(base: str, author: Author, entry_id: bytes, post_iri: str, post_author: Party) -> OutboundActivity:
    return _activity(author, base, build.like(id=object_url(base, entry_id), actor=author.actor(base), obj=post_iri),
                     Audience(people=post_author.people))


def announce(base: str, author: Author, entry_id: bytes, ts: int, post_iri: str,
             post_author: Party) -> OutboundActivity:
    """A boost: to Public, cc the followers and the boosted post's author."""
    activity = build.announce(id=object_url(base, entry_id), actor=author.actor(base), obj=post_iri,
                              published=moment(ts), visibility="public", followers=author.followers(base),
                              author=post_author.iri)
    return _activity(author, base, activity, Audience(followers=True, people=post_author.people, public=True))


def undo_reaction(base: str, author: Author, undo_id: bytes, kind: Literal["Like", "Announce"], reaction_id: bytes,
                  undone: OutboundActivity | None) -> OutboundActivity:
    """Undo of a like or a boost: the activity whole when it can still be built, else its id
    and type (what Mastodon needs to take back an Announce), to the audience it had."""
    if undone is not None:
        obj: dict[str, Any] = undone.activity
        audience = undone.audience
    else:
        obj = {"id": object_url(base, reaction_id), "type": kind, "actor": author.actor(base)}
        audience = Audience(followers=True, public=True) if kind == "Announce" else Audience()
    activity = build.undo(id=object_url(base, undo_id), actor=author.actor(base), obj=obj)
    if kind == "Announce":
        activity = {**activity, "to": [PUBLIC], "cc": [author.followers(base)]}
    return _activity(author, base, activity, audience)


RELATION_ACTIVITIES: dict[str, tuple[str, bool]] = {
    "follow": ("Follow", False), "unfollow": ("Follow", True), "block": ("Block", False), "unblock": ("Block", True),
}


def relation(base: str, author: Author, kind: str, entry_id: bytes, target: Party,
             undone_id: bytes | None) -> OutboundActivity:
    """Follow, Block, or the Undo of one (``undone_id``: the entry that made it, if held)."""
    activity_type, undoing = RELATION_ACTIVITIES[kind]
    actor = author.actor(base)
    maker = build.follow if activity_type == "Follow" else build.block
    if not undoing:
        return _activity(author, base, maker(id=object_url(base, entry_id), actor=actor, obj=target.iri),
                         Audience(people=target.people))
    made: dict[str, Any] = {"type": activity_type, "actor": actor, "object": target.iri}
    if undone_id is not None:
        made = maker(id=object_url(base, undone_id), actor=actor, obj=target.iri)
    return _activity(author, base, build.undo(id=object_url(base, entry_id), actor=actor, obj=made),
                     Audience(people=target.people))


def follow_answer(base: str, author: Author, entry_id: bytes, accept: bool, follower: Party,
                  follow_id: str | None) -> OutboundActivity:
    """Accept or Reject of a follower's Follow, given whole (its id when known)."""
    follow: dict[str, Any] = {"type": "Follow", "actor": follower.iri, "object": author.actor(base)}
    if follow_id is not None:
        follow = {"id": follow_id, **follow}
    maker = build.accept if accept else build.reject
    return _activity(author, base, maker(id=object_url(base, entry_id), actor=author.actor(base), follow=follow),
                     Audience(people=follower.people))


def profile_update(base: str, author: Author, entry_id: bytes, ts: int, actor_document: dict[str, Any]) -> OutboundActivity:
    """A profile change: Update of the whole actor document, to Public and the followers."""
    activity = build.update(id=object_url(base, entry_id), actor=author.actor(base), obj=actor_document,
                            published=moment(ts))
    activity["@context"] = actor_document["@context"]   # the actor's terms (weft:did) go with it
    return _activity(author, base, {**activity, "cc": [author.followers(base)]},
                     Audience(followers=True, public=True))


def move(base: str, author: Author, entry_id: bytes, target: Party) -> OutboundActivity:
    """The person moved to ``target``: a Move to all their followers (each server moves its
    own people who follow them, once the target's alsoKnownAs names the person)."""
    activity = build.move(id=object_url(base, entry_id), actor=author.actor(base), target=target.iri,
                          followers=author.followers(base))
    return _activity(author, base, activity, Audience(followers=True))
