"""Two nodes holding the same entries show the same thing, whatever order the entries came in.

Entries of one device log arrive in seq order (anything else is a gap), but logs
interleave freely, batches split anywhere, and a peer may send a header first and
its content later. Hypothesis draws those arrivals; the views must not care.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from weft.ingest import Ingest, Offer
from weft.store import queries
from weft.store.database import Database
from weft.store.schema import entries

from .world import Author, Signed, introduce, make_local, offer


@dataclass
class Scene:
    """Five device logs writing about the same posts, and what every node must end up showing."""

    alice: Author
    logs: dict[str, list[Signed]]
    one: Signed
    two: Signed
    reply: Signed
    erased: set[bytes]


def scene(clock) -> tuple[Scene, Author, Author]:
    alice, bob, mallory = Author(clock, "phone", "tablet", "laptop"), Author(clock), Author(clock)
    t = clock()
    one = alice.phone.post("one", ts=t + 1)
    two = alice.phone.post("two", ts=t + 2)
    phone = [one, two, alice.phone.react("like", one, ts=t + 3)]
    one_edited = alice.tablet.edit(one, "one, edited", ts=t + 4)  # each log is signed in seq order
    two_edited = alice.tablet.edit(two, "two, edited", ts=t + 5)
    tablet = [one_edited, two_edited, alice.tablet.react("like", one, ts=t + 6)]
    laptop = [alice.laptop.edit(one, "one, final", ts=t + 7), alice.laptop.delete(two, ts=t + 8)]
    bobs = [bob.phone.react("like", one, ts=t + 9), bob.phone.react("boost", two, ts=t + 10)]
    reply = bob.phone.reply(one, "bob's reply", ts=t + 11)  # signed after the reactions: seq 3
    bobs.append(reply)
    mallorys = [mallory.phone.delete(one, ts=t + 12), mallory.phone.edit(one, "forged", ts=t + 13),
                mallory.phone.delete(reply, ts=t + 14), mallory.phone.edit(two, "forged too", ts=t + 15)]
    logs = {"phone": phone, "tablet": tablet, "laptop": laptop, "bob": bobs, "mallory": mallorys}
    # A delete takes its author's edits of the target with it, whoever wrote the target:
    # mallory's forged edit of "one" follows mallory's delete of it, so it loses its text too.
    erased = {two.id, two_edited.id, mallorys[1].id}
    return Scene(alice, logs, one, two, reply, erased), bob, mallory


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[str], list[bool], list[bool]]:
    """Which log each next entry comes from, where batches end, which come header first."""
    sizes = {"phone": 3, "tablet": 3, "laptop": 2, "bob": 3, "mallory": 4}
    order = draw(st.permutations([name for name, size in sizes.items() for _ in range(size)]))
    cuts = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    headers_first = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return order, cuts, headers_first


async def what_is_shown(db: Database, s: Scene, clock) -> dict[str, object]:
    viewer = await make_local(db, s.alice)
    shown: dict[str, object] = {}
    async with db.read() as conn:
        for name, post in (("one", s.one), ("two", s.two), ("reply", s.reply)):
            detail = await queries.entry_detail(conn, post.id, now_ms=clock())
            view = detail.get("post")
            shown[name] = (None, 0, 0) if view is None or view["deleted"] else (
                view["text"], view["likes"], view["boosts"])
        shown["feed"] = [p.text for p in await queries.feed(conn, viewer, now_ms=clock())]
        every = [e.id for log in s.logs.values() for e in log]
        rows = (await conn.execute(select(entries.c.entry_id, entries.c.content)
                                   .where(entries.c.entry_id.in_(every)))).all()
    shown["held"] = len(rows)
    shown["without content"] = {entry_id for entry_id, content in rows if content is None}
    return shown


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrival=arrivals())
async def test_views_do_not_depend_on_arrival_order(database, clock, arrival) -> None:
    order, cuts, headers_first = arrival
    s, bob, mallory = scene(clock)
    cursors = dict.fromkeys(s.logs, 0)
    batches: list[list[Offer]] = [[]]
    later: list[Offer] = []
    for name, cut, header_first in zip(order, cuts, headers_first, strict=True):
        signed = s.logs[name][cursors[name]]
        cursors[name] += 1
        batches[-1].append(signed.header_only if header_first else signed.offer)
        if header_first:
            later.append(signed.offer)
        if cut:
            batches.append([])
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, s.alice, bob, mallory)
        for batch in [*batches, later]:
            if batch:
                outcomes = await offer(ingest, *batch)
                assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok]
    assert await what_is_shown(database, s, clock) == {
        "one": ("one, final", 2, 0),
        "two": (None, 0, 0),
        "reply": ("bob's reply", 0, 0),
        "feed": ["one, final"],
        "held": 15,
        "without content": s.erased,
    }
