"""The durable outbox: ingest queues a hosted person's entries that federate in the transaction
that stores them, and the expander turns each queued entry into one delivery per inbox
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from tests.conftest import FakeClock
from weft.config import NodeConfig
from weft.core.content import encode_content
from weft.core.entry import sign_entry
from weft.core.ids import entry_id_text
from weft.federation.outbound import load_activity
from weft.federation.outbox import Expander
from weft.ingest import Offer, _verify_chunk
from weft.store import entries as entry_store
from weft.store import identities as identity_store
from weft.store import moderation
from weft.store.schema import entries, federation_deliveries, federation_queue, remote_actors

from .outbox_world import BASE, World, inboxes, world


async def queued(w: World) -> list[int]:
    """Entry rows in the queue, oldest first."""
    async with w.db.read() as conn:
        rows = await conn.execute(select(federation_queue.c.entry).order_by(federation_queue.c.id))
        return [int(entry) for (entry,) in rows.all()]


async def row_of(w: World, entry_id: bytes) -> int:
    async with w.db.read() as conn:
        return int((await conn.execute(select(entries.c.id).where(entries.c.entry_id == entry_id))).scalar_one())


async def test_an_entry_and_its_queue_row_are_written_together(any_config: Any) -> None:
    async with world(any_config("n"), FakeClock()) as w:
        await w.expand()                       # the profile sign-up wrote
        post = await w.post("hello")
        assert await queued(w) == [await row_of(w, post)]

        # A crash inside the write transaction leaves neither the entry nor its queue row.
        author = w.site.accounts.author(await w.site.accounts.account(w.alice.id))
        async with w.db.read() as conn:
            head = (await entry_store.device_heads(conn, {author.device.did}))[author.device.did]
        content = encode_content({"type": "post", "text": "lost in the crash"})
        entry = sign_entry(author.device, author=author.did, seq=head.head_seq + 1, prev=head.head_id,
                           ts=w.node.clock(), content=content)
        checked = _verify_chunk([Offer(entry.raw, content)], w.node.clock())
        with pytest.raises(RuntimeError, match="crash"):
            async with w.db.write() as conn:
                outcomes, _ = await w.node.ingest._write_entries(conn, checked, w.node.clock())
                assert [o.status for o in outcomes] == ["stored"]
                inside = (await conn.execute(select(func.count()).select_from(federation_queue))).scalar()
                assert inside == 2                 # written in this transaction...
                raise RuntimeError("crash")
        async with w.db.read() as conn:            # ...and gone with it
            assert (await conn.execute(select(entries.c.id).where(entries.c.entry_id == entry.id))).first() is None
        assert await queued(w) == [await row_of(w, post)]

        # The same entry offered again after the "restart" is stored and queued.
        outcome = await w.node.ingest.entry(entry.raw, content)
        assert outcome.status == "stored"
        assert await queued(w) == [await row_of(w, post), await row_of(w, entry.id)]


async def test_only_a_hosted_person_s_entries_that_federate_are_queued(any_config: Any) -> None:
    async with world(any_config("n"), FakeClock()) as w:
        await w.expand()
        author = w.site.accounts.author(await w.site.accounts.account(w.alice.id))
        await w.node.publish({"type": "mute", "target": "did:weft:" + "b" * 48}, author=author)
        assert await queued(w) == []           # a mute is private
        # An identity that is local but not a hosted account (the operator's own, say).
        from weft import custody
        await custody.init_identity(w.node, "operator")
        await w.node.publish({"type": "post", "text": "from the command line"})
        assert await queued(w) == []
        post = await w.post("mine")
        liked = await w.node.publish({"type": "like", "target": entry_id_text(post)}, author=author)
        assert await queued(w) == [await row_of(w, post), await row_of(w, liked.id)]


async def test_a_post_reaches_each_follower_inbox_once(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w:
        await w.expand()
        for name in ("ann", "amy", "abe"):                      # one server, one shared inbox
            await w.follower(name, "a.example", boxes)
        await w.follower("bea", "b.example", boxes, shared=False)
        await w.follower("bob", "b.example", boxes, shared=False)
        await w.follower("cat", "c.example", boxes)
        await w.follower("dan", "d.example", boxes, follows=False)   # known here, not a follower
        await w.follower("eve", "x.bad.example", boxes)               # on a server suspended here
        async with w.db.write() as conn:
            await moderation.save_domain_block(conn, moderation.DomainBlock(
                "bad.example", "suspend", False, False, "", "", False, clock()))
        post = await w.post("hello, fediverse")
        assert await w.expand() == 1
        assert await queued(w) == []
        made = await w.deliveries()
        assert sorted(d["inbox"] for d in made) == sorted([
            boxes.inbox("a.example"), boxes.inbox("b.example", "/users/bea/inbox"),
            boxes.inbox("b.example", "/users/bob/inbox"), boxes.inbox("c.example")])
        assert {d["host"] for d in made} == {f"{h}:{boxes.port}" for h in ("a.example", "b.example", "c.example")}
        assert len({d["body"] for d in made}) == 1                # built once
        assert {d["entry"] for d in made} == {await row_of(w, post)}
        assert await w.expand() == 0                              # never expanded twice


async def test_followers_only_and_direct_posts_reach_their_audience_only(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w:
        await w.expand()
        await w.follower("ann", "a.example", boxes)
        dan = await w.follower("dan", "d.example", boxes, follows=False)
        await w.post("for my followers", visibility="followers")
        await w.expand()
        assert [d["inbox"] for d in await w.deliveries()] == [boxes.inbox("a.example")]
        await w.post("just for you", visibility="direct", mentions=[dan])
        await w.expand()
        assert [d["inbox"] for d in await w.deliveries()][1:] == [boxes.inbox("d.example")]


async def test_an_unknown_person_is_fetched_first_and_one_who_cannot_be_is_left_out(any_config: Any) -> None:
    clock = FakeClock()
    asked: list[str] = []

    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w:
        async def resolve(iri: str) -> object:
            asked.append(iri)
            if "gone.example" in iri:
                from weft.federation.fetching_errors import FetchError
                raise FetchError("connection", "no such host", url=iri)
            async with w.db.write() as conn:     # what the remote actors service stores
                ident = (await identity_store.ensure_identities(conn, [iri]))[iri]
                await conn.execute(insert(remote_actors).values(
                    identity=ident, iri=iri, host="e.example", kind="Person", inbox=boxes.inbox("e.example", "/eve"),
                    document=b"{}", fetched_at=clock()))
            return object()

        await w.expand()
        eve, ghost = "https://e.example/users/eve", "https://gone.example/users/ghost"
        async with w.db.write() as conn:   # named in content, so they have identity rows
            await identity_store.ensure_identities(conn, [eve, ghost])
        await w.post("hi eve", visibility="direct", mentions=[eve])
        await w.post("hi ghost", visibility="direct", mentions=[ghost])
        expander = Expander(w.db, BASE, clock, resolve=resolve)
        while await expander.expand_once():
            pass
        assert asked == [eve, ghost]          # each fetched once
        assert [d["inbox"] for d in await w.deliveries()] == [boxes.inbox("e.example", "/eve")]
        assert await queued(w) == []


@pytest.mark.backends("postgresql")
async def test_two_expanders_on_postgresql_never_expand_a_row_twice(database: Any, postgres_url: str,
                                                                  tmp_path: Any) -> None:
    clock = FakeClock()
    config = NodeConfig(tmp_path / "n", f"{postgres_url}?schema={database.schema}")
    async with inboxes(clock) as boxes, world(config, clock) as w:
        await w.expand()
        for index in range(8):
            await w.follower(f"p{index}", f"h{index}.example", boxes)
        posts = [await w.post(f"post {index}") for index in range(40)]
        first, second = Expander(w.db, BASE, clock), Expander(w.db, BASE, clock)

        async def drain(expander: Expander) -> int:
            total = 0
            while made := await expander.expand_once(limit=3):
                total += made
            return total

        done = await asyncio.gather(drain(first), drain(second))
        assert sum(done) == len(posts) and all(done)      # both worked, neither twice
        async with w.db.read() as conn:
            pairs = (await conn.execute(select(federation_deliveries.c.entry, federation_deliveries.c.inbox))).all()
        assert len(pairs) == len(set(pairs)) == 8 * len(posts)


async def test_an_entry_the_mapping_cannot_take_is_dropped_and_a_lost_transaction_drops_nothing(
        any_config: Any, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w:
        await w.expand()
        await w.follower("ann", "a.example", boxes)
        good, bad = await w.post("fine"), await w.post("breaks the mapping")
        good_row, bad_row = await row_of(w, good), await row_of(w, bad)

        async def database_down(conn: Any, base: str, entry: int) -> Any:
            raise OperationalError("SELECT", {}, OSError("the database went away"))

        with pytest.raises(OperationalError):
            await Expander(w.db, BASE, clock, load=database_down).expand_once()
        assert await queued(w) == [good_row, bad_row]          # rolled back: nothing lost

        async def fussy(conn: Any, base: str, entry: int) -> Any:
            if entry == bad_row:
                raise ValueError("a content this mapping has no activity for")
            return await load_activity(conn, base, entry)

        assert await Expander(w.db, BASE, clock, load=fussy).expand_once() == 2
        assert await queued(w) == []
        assert [d["entry"] for d in await w.deliveries()] == [good_row]
        assert f"cannot make the activity of entry row {bad_row}" in caplog.text
