"""What the one door refuses, with a reason code a peer can act on and a message a person can read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from weft.core.content import encode_content
from weft.core.encoding import canonical
from weft.core.entry import MAX_FUTURE_SKEW_MS
from weft.ingest import Ingest, Offer, Outcome
from weft.store import queries
from weft.store.database import Database
from weft.store.schema import devices, entries, forks, identities, posts, relations

from ..store.world import (
    Author,
    Device,
    admit,
    header_fields,
    introduce,
    make_local,
    new_key,
    offer,
    row_of,
    signed_header,
)


def refused(outcome: Outcome, reason: str, *fragments: str) -> None:
    """``outcome`` is a refusal for ``reason`` whose message says so in words."""
    assert (outcome.status, outcome.reason) == ("rejected", reason), outcome
    assert outcome.message is not None and outcome.message.startswith(f"{reason}: "), outcome
    for fragment in fragments:
        assert fragment in outcome.message, (fragment, outcome.message)


async def seqs_held(db: Database, device: Device) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(select(entries.c.seq).join(devices, devices.c.id == entries.c.device)
                                  .where(devices.c.key == device.did).order_by(entries.c.seq))
        return [seq for (seq,) in rows.all()]


@dataclass
class Case:
    """One bad offer: made after alice's first post is stored, refused for ``reason``."""

    reason: str
    make: Callable[[Author, Author], Offer]
    says: tuple[str, ...]


def _bad_signature(alice: Author, _: Author) -> Offer:
    content = encode_content({"type": "post", "text": "not signed by the phone"})
    return Offer(signed_header(new_key(), header_fields(alice, alice.phone, content)), content)


def _broken_chain(alice: Author, _: Author) -> Offer:
    content = encode_content({"type": "post", "text": "wrong prev"})
    fields = header_fields(alice, alice.phone, content, prev="a" * 51 + "q")
    return Offer(signed_header(alice.phone.key, fields), content)


def _gap(alice: Author, _: Author) -> Offer:
    alice.phone.post("never offered")
    return alice.phone.post("after a gap").offer


def _content_mismatch(alice: Author, _: Author) -> Offer:
    return Offer(alice.phone.post("what was signed").entry.raw, encode_content({"type": "post", "text": "what came"}))


def _unauthorized_device(alice: Author, _: Author) -> Offer:
    stranger = Device(alice, "stranger")
    return stranger.post("a key alice never authorized").offer


def _someone_elses_device(alice: Author, bob: Author) -> Offer:
    impostor = Device(bob, "impostor", key=alice.phone.key)  # alice's key, claiming to write as bob
    return impostor.post("I am bob").offer


def _future_timestamp(alice: Author, _: Author) -> Offer:
    return alice.phone.post("from the future", ts=alice.clock() + MAX_FUTURE_SKEW_MS + 60_000).offer


def _unknown_field(alice: Author, _: Author) -> Offer:
    content = encode_content({"type": "post", "text": "extra"})
    fields = header_fields(alice, alice.phone, content, color="red")
    return Offer(signed_header(alice.phone.key, fields), content)


def _not_canonical(alice: Author, _: Author) -> Offer:
    signed = alice.phone.post("spaced out")
    return Offer(signed.entry.raw.replace(b",", b", ", 1), signed.content)


def _invalid_content(alice: Author, _: Author) -> Offer:
    content = canonical({"type": "post", "summary": "a post needs a text"})
    return Offer(signed_header(alice.phone.key, header_fields(alice, alice.phone, content)), content)


def _oversize_header(alice: Author, _: Author) -> Offer:
    return Offer(b'{"pad":"' + b"x" * 2000 + b'"}', None)


def _oversize_content(alice: Author, _: Author) -> Offer:
    content = canonical({"type": "post", "text": "x" * 70_000})
    return Offer(signed_header(alice.phone.key, header_fields(alice, alice.phone, content)), content)


def _unknown_identity(_: Author, bob: Author) -> Offer:
    carol = Author(bob.clock)  # her identity log never reached this node
    return carol.phone.post("hello?").offer


CASES = {
    "bad_signature": Case("bad_signature", _bad_signature, ("signature does not verify", "seq 2")),
    "broken_chain": Case("broken_chain", _broken_chain, ("'prev' is not the id of seq 1",)),
    "gap": Case("gap", _gap, ("expected seq 2, got 3",)),
    "content_mismatch": Case("content_mismatch", _content_mismatch, ("does not match content_hash",)),
    "unauthorized_device": Case("unauthorized_device", _unauthorized_device, ("not authorized",)),
    "someone_elses_device": Case("unauthorized_device", _someone_elses_device, ("not authorized",)),
    "future_timestamp": Case("future_timestamp", _future_timestamp, ("in the future",)),
    "unknown_field": Case("malformed", _unknown_field, ("unknown ['color']",)),
    "not_canonical": Case("malformed", _not_canonical, ("not canonical",)),
    "invalid_content": Case("malformed", _invalid_content, ("content is invalid", "missing 'text'")),
    "oversize_header": Case("oversize", _oversize_header, ("the limit is 1024",)),
    "oversize_content": Case("oversize", _oversize_content, ("the limit is 65536",)),
    "unknown_identity": Case("unknown_identity", _unknown_identity, ("does not hold the identity log",)),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_a_bad_entry_is_refused_with_its_reason(database, clock, case: Case) -> None:
    alice, bob = Author(clock), Author(clock)
    first = alice.phone.post("first")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, first)
        bad = case.make(alice, bob)
        [outcome] = await offer(ingest, bad)
    refused(outcome, case.reason, *case.says)
    async with database.read() as conn:
        held = (await conn.execute(select(func.count()).select_from(entries))).scalar_one()
    assert held == 1
    assert await seqs_held(database, alice.phone) == [1]


async def test_a_refusal_leaves_the_rest_of_its_batch_alone(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    good = [alice.phone.post("one"), alice.phone.post("two")]
    lost = bob.phone.post("lost")
    bobs_next = bob.phone.post("after a gap")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        outcomes = await offer(ingest, good[0], bobs_next, Offer(b"garbage", None), good[1])
    assert [o.status for o in outcomes] == ["stored", "rejected", "rejected", "stored"]
    refused(outcomes[1], "gap")
    refused(outcomes[2], "malformed")
    assert lost.id not in {o.entry_id for o in outcomes}
    assert await seqs_held(database, alice.phone) == [1, 2]


async def test_a_revoked_device_keeps_what_it_wrote_up_to_the_revocation(database, clock) -> None:
    alice = Author(clock, "phone", "tablet")
    written = [alice.tablet.post(f"tablet {n}") for n in range(1, 6)]
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        viewer = await make_local(database, alice)
        await admit(ingest, *written)
        revocation = alice.revoke("tablet", last_seq=3)
        [result] = await ingest.identity_ops([revocation.raw])
        assert result.status == "stored"
        assert await seqs_held(database, alice.tablet) == [1, 2, 3]
        outcomes = await offer(ingest, written[3], alice.tablet.post("six"))
    for outcome, seq in zip(outcomes, (4, 6), strict=True):
        refused(outcome, "revoked_device", "revoked after seq 3", f"seq {seq}")
    async with database.read() as conn:
        head = (await conn.execute(select(devices.c.head_seq).where(devices.c.key == alice.tablet.did))).scalar_one()
        shown = await queries.feed(conn, viewer, now_ms=clock())
    assert head == 3
    assert sorted(p.text for p in shown) == ["tablet 1", "tablet 2", "tablet 3"]


async def test_a_node_that_learns_of_a_revocation_first_takes_only_what_came_before(database, clock) -> None:
    alice = Author(clock, "phone", "tablet")
    written = [alice.tablet.post(f"tablet {n}") for n in range(1, 5)]
    alice.revoke("tablet", last_seq=2)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        outcomes = await offer(ingest, *written)
    assert [o.status for o in outcomes] == ["stored", "stored", "rejected", "rejected"]
    refused(outcomes[2], "revoked_device", "revoked after seq 2")
    assert await seqs_held(database, alice.tablet) == [1, 2]


async def test_a_blocked_identity_is_purged_and_refused(database, clock) -> None:
    alice, bob, carol = Author(clock), Author(clock), Author(clock)
    bobs = [bob.phone.post("bob 1"), bob.phone.relate("follow", carol), bob.phone.post("bob 3")]
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol)
        await make_local(database, alice)
        await admit(ingest, *bobs, carol.phone.relate("block", bob))  # carol is not local: a relation only
        assert await seqs_held(database, bob.phone) == [1, 2, 3]
        await admit(ingest, alice.phone.relate("block", bob))
        assert await seqs_held(database, bob.phone) == []
        outcomes = await offer(ingest, bobs[0], bob.phone.post("bob 4"))
        for outcome in outcomes:
            refused(outcome, "blocked", bob.did)
        async with database.read() as conn:
            bob_row = await row_of(database, bob)
            state = (await conn.execute(select(identities.c.state).where(identities.c.id == bob_row))).scalar_one()
            from_bob = (await conn.execute(select(func.count()).select_from(relations)
                                           .where(relations.c.source == bob_row))).scalar_one()
            bob_posts = (await conn.execute(select(func.count()).select_from(posts)
                                            .where(posts.c.author == bob_row))).scalar_one()
        assert state is not None  # the identity log stays, so the block can name bob
        assert (from_bob, bob_posts) == (0, 0)
        await admit(ingest, alice.phone.relate("unblock", bob, ts=clock.advance(1000)))
        outcomes = await offer(ingest, *bobs)
    assert [o.status for o in outcomes] == ["stored"] * 3
    assert await seqs_held(database, bob.phone) == [1, 2, 3]


async def test_two_entries_at_one_seq_close_the_log_and_keep_the_evidence(database, clock) -> None:
    alice = Author(clock)
    one, two = alice.phone.post("one"), alice.phone.post("two")
    honest_three = alice.phone.post("three")
    alice.phone.seq, alice.phone.head = 1, one.id  # a second copy of the key writes from seq 1 on
    forged_two = alice.phone.post("two, forged")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, one, two)
        [outcome] = await offer(ingest, forged_two)
        refused(outcome, "fork", "seq 2", "evidence is kept")
        later = await offer(ingest, honest_three)
    refused(later[0], "forked_log", "forked")
    assert await seqs_held(database, alice.phone) == [1, 2]
    async with database.read() as conn:
        evidence = (await conn.execute(select(forks.c.seq, forks.c.held, forks.c.offered))).all()
        forked = (await conn.execute(select(devices.c.forked).where(devices.c.key == alice.phone.did))).scalar_one()
    assert [tuple(row) for row in evidence] == [(2, two.entry.raw, forged_two.entry.raw)]
    assert forked is True


async def test_a_fork_within_one_batch_is_caught_too(database, clock) -> None:
    alice = Author(clock)
    one = alice.phone.post("one")
    two = alice.phone.post("two")
    alice.phone.seq, alice.phone.head = 1, one.id
    forged_two = alice.phone.post("two, forged")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        outcomes = await offer(ingest, one, two, forged_two)
    assert [o.status for o in outcomes] == ["stored", "stored", "rejected"]
    refused(outcomes[2], "fork")
    assert await seqs_held(database, alice.phone) == [1, 2]
    async with database.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(forks))).scalar_one() == 1
