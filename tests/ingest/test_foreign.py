"""Foreign entries through the one door: stored and folded like signed ones, once per origin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from weft.core.encoding import canonical
from weft.core.foreign import decode_foreign, make_foreign
from weft.core.ids import entry_id_text
from weft.ingest import ForeignOffer, Ingest
from weft.store import foreign as foreign_store
from weft.store.database import Database
from weft.store.entries import device_heads, log_range
from weft.store.schema import entries, identities, posts, reactions, relations
from weft.store.wants import wanted_identities

from ..store.world import Author, admit, introduce, make_local

BOB = "https://mastodon.example/users/bob"
CAROL = "https://pleroma.example/users/carol"


def foreign(content: dict[str, Any], origin: str, ts: int, *, author: str = BOB, **extra: Any) -> ForeignOffer:
    entry, data = make_foreign(content, author=author, origin=origin, via="signature", ts=ts, **extra)
    return ForeignOffer(entry.raw, data)


def ref(offer: ForeignOffer) -> str:
    return entry_id_text(decode_foreign(offer.header).id)


async def count(db: Database, table: Any, *where: Any) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def test_a_remote_post_like_and_follow_fold_like_signed_ones(database, clock) -> None:
    alice = Author(clock, "phone")
    hello = alice.phone.post("hello fediverse")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, hello)
        t = clock()
        offers = [
            foreign({"type": "post", "text": "hi alice", "html": "<p>hi alice</p>", "reply_to": hello.ref,
                     "root": hello.ref, "mentions": [alice.did], "visibility": "public"},
                    f"{BOB}/statuses/1", t),
            foreign({"type": "like", "target": hello.ref}, "https://mastodon.example/likes/1", t),
            foreign({"type": "follow", "target": alice.did}, "https://mastodon.example/follows/1", t),
        ]
        outcomes = await ingest.foreign(offers)
    assert [o.status for o in outcomes] == ["stored"] * 3
    assert [entry_id_text(o.entry_id) for o in outcomes if o.entry_id] == [ref(o) for o in offers]
    async with database.read() as conn:
        bob = (await conn.execute(select(identities.c.id).where(identities.c.did == BOB))).scalar_one()
        head = (await device_heads(conn, ["foreign:" + BOB]))["foreign:" + BOB]
        held = await foreign_store.entries_of_origins(conn, [f"{BOB}/statuses/1"])
    assert (head.identity, head.head_seq) == (bob, 3)
    assert entry_id_text(held[f"{BOB}/statuses/1"][1]) == ref(offers[0])
    assert await count(database, posts, posts.c.author == bob) == 1
    assert await count(database, reactions, reactions.c.author == bob) == 1
    assert await count(database, relations, relations.c.source == bob, relations.c.active.is_(True)) == 1


async def test_one_origin_is_stored_once_whatever_else_differs(database, clock) -> None:
    origin = f"{BOB}/statuses/7"
    first = foreign({"type": "post", "text": "one"}, origin, clock())
    again = foreign({"type": "post", "text": "one, delivered again"}, origin, clock() + 5)
    async with Ingest(database, clock) as ingest:
        in_one_batch = await ingest.foreign([first, again])
        later = await ingest.foreign([first, again])
    assert [o.status for o in in_one_batch] == ["stored", "duplicate"]
    assert [o.status for o in later] == ["duplicate", "duplicate"]
    assert await count(database, entries) == 1 and await count(database, posts) == 1


async def test_deletes_and_undos_count_only_from_the_same_author(database, clock) -> None:
    t = clock()
    post = foreign({"type": "post", "text": "soon gone"}, f"{BOB}/statuses/2", t)
    like = foreign({"type": "like", "target": ref(post)}, f"{CAROL}/likes/1", t, author=CAROL)
    by_carol = foreign({"type": "delete", "target": ref(post)}, f"{CAROL}/deletes/1", t, author=CAROL)
    undo_like = foreign({"type": "delete", "target": ref(like)}, f"{CAROL}/undo/1", t, author=CAROL)
    by_bob = foreign({"type": "delete", "target": ref(post)}, f"{BOB}/deletes/2", t)
    async with Ingest(database, clock) as ingest:
        assert {o.status for o in await ingest.foreign([post, like, by_carol])} == {"stored"}
        assert await count(database, posts, posts.c.deleted.is_(False)) == 1
        assert await count(database, reactions) == 1
        await ingest.foreign([undo_like, by_bob])
    assert await count(database, reactions) == 0
    assert await count(database, posts, posts.c.deleted.is_(False)) == 0
    async with database.read() as conn:
        content = (await conn.execute(select(entries.c.content).where(
            entries.c.entry_id == decode_foreign(post.header).id))).scalar_one()
    assert content is None


async def test_bad_foreign_offers_are_refused_with_a_reason_and_nothing_is_kept(database, clock) -> None:
    good = foreign({"type": "post", "text": "fine"}, f"{BOB}/statuses/3", clock())
    header = decode_foreign(good.header)
    mismatched = ForeignOffer(good.header, b'{"text":"swapped","type":"post"}')
    unknown_keys = ForeignOffer(good.header.replace(b'"v":1', b'"sig":"x","v":1'), good.content)
    future = foreign({"type": "post", "text": "from the future"}, f"{BOB}/statuses/4", clock() + 3_600_000)
    invalid = ForeignOffer(*_raw_pair({"type": "post"}, f"{BOB}/statuses/5", clock()))
    async with Ingest(database, clock) as ingest:
        outcomes = await ingest.foreign([mismatched, unknown_keys, future, invalid, good])
    assert [(o.status, o.reason) for o in outcomes] == [
        ("rejected", "content_mismatch"), ("rejected", "malformed"), ("rejected", "future_timestamp"),
        ("rejected", "malformed"), ("stored", None)]
    assert all(o.message for o in outcomes[:4])
    assert await count(database, entries) == 1 and header.origin.endswith("/3")


def _raw_pair(content: dict[str, Any], origin: str, ts: int) -> tuple[bytes, bytes]:
    """A header for content that is not valid weft content (a post without text)."""
    from weft.core.encoding import b64url, sha256

    data = canonical(content)
    header = {"v": 1, "network": "activitypub", "author": BOB, "origin": origin, "via": "fetch", "ts": ts,
              "content_hash": b64url(sha256(data)), "content_size": len(data)}
    return canonical(header), data


async def test_an_author_the_nodes_own_people_block_is_refused(database, clock) -> None:
    owner = Author(clock, "laptop")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, owner)
        await make_local(database, owner)
        await admit(ingest, owner.laptop.relate("block", _Iri(BOB)))  # type: ignore[arg-type]
        outcomes = await ingest.foreign([foreign({"type": "post", "text": "let me in"}, f"{BOB}/s/1", clock())])
    assert (outcomes[0].status, outcomes[0].reason) == ("rejected", "blocked")
    assert "blocked" in (outcomes[0].message or "")


class _Iri:
    """Stands where an Author goes in ``relate``: only its ``did`` is read."""

    def __init__(self, iri: str) -> None:
        self.did = iri


async def test_foreign_logs_are_never_handed_to_peers_nor_wanted_from_them(database, clock) -> None:
    owner = Author(clock, "laptop")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, owner)
        await make_local(database, owner)
        await admit(ingest, owner.laptop.relate("follow", _Iri(BOB)))  # type: ignore[arg-type]
        await ingest.foreign([foreign({"type": "post", "text": "gossip me"}, f"{BOB}/statuses/9", clock())])
    async with database.read() as conn:
        assert await log_range(conn, "foreign:" + BOB, 0, 10, now_ms=clock()) == []
        wanted = await wanted_identities(conn, 2)
    assert owner.did in wanted and BOB not in wanted


async def test_expired_foreign_content_is_not_kept(database, clock) -> None:
    t = clock()
    gone = foreign({"type": "post", "text": "ephemeral"}, f"{BOB}/statuses/10", t - 10_000, expires=t - 1)
    async with Ingest(database, clock) as ingest:
        assert (await ingest.foreign([gone]))[0].status == "stored"
    async with database.read() as conn:
        content = (await conn.execute(select(entries.c.content))).scalar_one()
    assert content is None and await count(database, posts) == 0
