"""Documents weft builds read back as what was meant: through our parser, as a remote server would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.errors import UsageError
from weft.federation.activitystreams import ASObject, PublicKey, parse_object
from weft.federation.activitystreams_addressing import PUBLIC, addressing, visibility_of
from weft.federation.as2_build import (
    CONTEXT,
    accept,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    like,
    move,
    note,
    reject,
    undo,
    update,
    xsd_datetime,
)
from weft.federation.as2_build_actors import (
    ActorFields,
    ordered_collection,
    ordered_collection_page,
    person,
    service,
)
from weft.federation.remote_objects import Media, Mention, remote_post

ALICE = "https://w.example/users/alice"
FOLLOWERS = ALICE + "/followers"
BOB = "https://o.example/users/bob"
CAROL = "https://c.example/users/carol"
WHEN = datetime(2024, 5, 1, 12, 0, 30, 999, tzinfo=timezone(timedelta(hours=2)))
VISIBILITIES = ("public", "unlisted", "followers", "direct")


def read(document: dict[str, Any]) -> ASObject:
    return parse_object(orjson.dumps(document))


def a_note(visibility: str = "public", **extra: Any) -> dict[str, Any]:
    return note(id=ALICE + "/posts/1", author=ALICE, followers=FOLLOWERS, html="<p>hi @bob</p>", published=WHEN,
                visibility=visibility, **extra)


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_a_note_reads_back_with_its_visibility_mentions_and_media(visibility: str) -> None:
    built = a_note(visibility, url="https://w.example/@alice/1", mentions=[Mention(BOB, "@bob@o.example")],
                   hashtags=[("weft", "https://w.example/tags/weft")], in_reply_to="https://o.example/notes/9",
                   summary="cw", sensitive=True, language="en", updated=WHEN + timedelta(hours=1),
                   attachments=[Media(url="https://w.example/m/1.png", mime="image/png", alt="a cat", width=2,
                                      height=1, blurhash="UBL_")])
    assert built["@context"] == CONTEXT
    post = remote_post(read(built), followers=FOLLOWERS)
    assert post.visibility == visibility
    assert post.author == ALICE and post.url == "https://w.example/@alice/1" and post.language == "en"
    assert post.published == datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC)
    assert post.updated == datetime(2024, 5, 1, 11, 0, 30, tzinfo=UTC)
    assert post.text == "hi @bob" and post.summary == "cw" and post.sensitive
    assert post.in_reply_to == "https://o.example/notes/9"
    assert post.mentions == (Mention(BOB, "@bob@o.example"),) and post.hashtags == ("weft",)
    assert post.attachments == (Media(url="https://w.example/m/1.png", mime="image/png", alt="a cat", width=2,
                                      height=1, blurhash="UBL_"),)
    assert BOB in built["to"] + built["cc"]


def test_a_plain_note_leaves_out_what_it_does_not_have() -> None:
    built = a_note()
    assert set(built) == {"@context", "id", "type", "published", "attributedTo", "to", "cc", "sensitive",
                          "content", "attachment", "tag"}
    assert built["published"] == "2024-05-01T10:00:30Z"


def test_activities_around_a_note_read_back() -> None:
    posted = a_note("followers", mentions=[Mention(BOB)])
    created = read(create(id=ALICE + "/posts/1/activity", actor=ALICE, obj=posted))
    assert created.types == ("Create",) and created.to == (FOLLOWERS,) and created.cc == (BOB,)
    (obj,) = created.object
    assert isinstance(obj, ASObject) and obj.id == ALICE + "/posts/1" and obj.language is None
    updated = read(update(id=ALICE + "/posts/1#updates/1", actor=ALICE, obj=posted, published=WHEN))
    assert updated.types == ("Update",) and updated.to == (FOLLOWERS,)
    deleted = read(delete(id=ALICE + "/posts/1#delete", actor=ALICE, object_id=ALICE + "/posts/1", cc=[FOLLOWERS]))
    (tombstone,) = deleted.object
    assert isinstance(tombstone, ASObject) and tombstone.types == ("Tombstone",)
    assert remote_post(tombstone, actor=ALICE).deleted
    gone = read(delete(id=ALICE + "#delete", actor=ALICE, object_id=ALICE))
    assert gone.object == (ALICE,) and gone.to == (PUBLIC,)


def test_relations_and_their_undoing_read_back() -> None:
    asked = follow(id=BOB + "#follows/1", actor=BOB, obj=ALICE)
    for answer, kind in ((accept, "Accept"), (reject, "Reject")):
        document = read(answer(id=ALICE + "#accepts/1", actor=ALICE, follow=asked))
        (inner,) = document.object
        assert document.types == (kind,) and isinstance(inner, ASObject) and inner.types == ("Follow",)
        assert inner.actor == (BOB,) and inner.object == (ALICE,)
    assert read(accept(id=ALICE + "#accepts/2", actor=ALICE, follow=BOB + "#follows/1")).object == (BOB + "#follows/1",)
    for build, kind in ((like, "Like"), (block, "Block"), (follow, "Follow")):
        activity = build(id=ALICE + f"#{kind}/1", actor=ALICE, obj=BOB)
        assert read(activity).types == (kind,)
        undone = read(undo(id=ALICE + f"#{kind}/1/undo", actor=ALICE, obj=activity))
        (inner,) = undone.object
        assert isinstance(inner, ASObject) and inner.types == (kind,) and inner.object == (BOB,)


def test_a_boost_flag_and_move_read_back() -> None:
    boosted = read(announce(id=ALICE + "/boosts/1", actor=ALICE, obj=BOB + "/notes/1", published=WHEN,
                            visibility="public", followers=FOLLOWERS, author=BOB))
    assert boosted.to == (PUBLIC,) and boosted.cc == (FOLLOWERS, BOB) and boosted.object == (BOB + "/notes/1",)
    flagged = read(flag(id="https://w.example/flags/1", actor="https://w.example/actor",
                        objects=[BOB, BOB + "/notes/1"], content="spam"))
    assert flagged.object == (BOB, BOB + "/notes/1") and flagged.content == "spam"
    moved = read(move(id=ALICE + "#moves/1", actor=ALICE, target=CAROL, followers=FOLLOWERS))
    assert moved.object == (ALICE,) and moved.target == (CAROL,)


def fields(**extra: Any) -> ActorFields:
    return ActorFields(id=ALICE, username="alice", inbox=ALICE + "/inbox", outbox=ALICE + "/outbox",
                       followers=FOLLOWERS, following=ALICE + "/following", public_key_pem="-----BEGIN PUBLIC KEY-----",
                       **extra)


def test_actor_documents_read_back() -> None:
    document = person(fields(
        shared_inbox="https://w.example/inbox", featured=ALICE + "/featured", name="Alice", summary="<p>me</p>",
        url="https://w.example/@alice", icon=Media(url="https://w.example/a.png", mime="image/png"),
        fields=[("Site", '<a href="https://a.example">a</a>')], also_known_as=["https://old.example/users/a"],
        moved_to=CAROL, manually_approves_followers=True, discoverable=True, published=WHEN))
    actor = read(document)
    assert actor.types == ("Person",) and actor.preferred_username == "alice" and actor.name == "Alice"
    assert actor.public_keys == (PublicKey(id=ALICE + "#main-key", owner=ALICE, pem="-----BEGIN PUBLIC KEY-----"),)
    assert actor.shared_inbox == "https://w.example/inbox" and actor.featured == ALICE + "/featured"
    assert actor.also_known_as == ("https://old.example/users/a",) and actor.moved_to == CAROL
    assert actor.manually_approves_followers is True and actor.discoverable is True
    (field,) = actor.attachment
    assert isinstance(field, ASObject) and field.types == ("PropertyValue",) and field.name == "Site"
    bot = read(service(fields()))
    assert bot.types == ("Service",) and bot.shared_inbox is None and bot.icon == ()


def test_collections_and_pages_read_back() -> None:
    outbox = read(ordered_collection(id=ALICE + "/outbox", total_items=3, first=ALICE + "/outbox?page=1"))
    assert outbox.types == ("OrderedCollection",) and outbox.total_items == 3 and outbox.first == ALICE + "/outbox?page=1"
    featured = read(ordered_collection(id=ALICE + "/featured", total_items=1, items=[a_note()]))
    assert featured.ordered and isinstance(featured.items[0], ASObject)
    page = read(ordered_collection_page(id=ALICE + "/outbox?page=1", part_of=ALICE + "/outbox",
                                        items=[BOB, a_note()], next=ALICE + "/outbox?page=2"))
    assert page.types == ("OrderedCollectionPage",) and page.ordered and page.items[0] == BOB
    assert page.part_of == ALICE + "/outbox" and page.next == ALICE + "/outbox?page=2"


@given(st.sampled_from(VISIBILITIES), st.lists(st.sampled_from([BOB, CAROL, FOLLOWERS, PUBLIC]), max_size=4))
def test_addressing_and_visibility_are_inverse(visibility: str, mentioned: list[str]) -> None:
    to, cc = addressing(visibility, followers=FOLLOWERS, mentioned=mentioned)
    assert visibility_of(to, cc, FOLLOWERS) == visibility
    people = {iri for iri in mentioned if iri in (BOB, CAROL)}
    assert people <= set(to) | set(cc)
    assert len(to + cc) == len(set(to + cc))


@pytest.mark.parametrize(("visibility", "to", "cc"), [
    ("public", (PUBLIC,), (FOLLOWERS, BOB)),
    ("unlisted", (FOLLOWERS,), (PUBLIC, BOB)),
    ("followers", (FOLLOWERS,), (BOB,)),
    ("direct", (BOB,), ()),
])
def test_addressing_is_mastodons(visibility: str, to: tuple[str, ...], cc: tuple[str, ...]) -> None:
    assert addressing(visibility, followers=FOLLOWERS, mentioned=[BOB]) == (to, cc)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(UsageError, match="visibility must be one of"):
        a_note("friends")
    with pytest.raises(UsageError, match="aware"):
        xsd_datetime(datetime(2024, 1, 1))
    with pytest.raises(UsageError, match="at least the reported account"):
        flag(id="https://w.example/flags/1", actor=ALICE, objects=[])
