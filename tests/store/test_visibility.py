"""Who sees what: every read of posts for a viewer agrees with a plain model of the rules.

Public and unlisted posts: anyone, unless the author blocks them. Followers-only: the
author, whoever it mentions, and followers (let in, when the author is locked). Direct:
the author and whoever it mentions. Unlisted, followers-only and direct posts never reach
the public, local or tag timelines. Timelines leave out authors the viewer blocks.

Boosts (anyone's, of any post: a peer's log may hold what weft would refuse) are read
by their status ids by whom their post may be shown to, unless the booster blocks them;
a home timeline holds those by the viewer and whom it follows (let in, when locked), not of its own
posts, of authors it blocks, by boosters it blocks or who block it, nor of a post on the
page already, and of one post only the newest boost.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.ingest import Ingest
from weft.store import statuses
from weft.store.boosts import boost_by_status
from weft.store.database import Database
from weft.store.home_timeline import home_timeline
from weft.store.schema import entries, reactions
from weft.store.statuses import Page

from .world import Author, Signed, admit, introduce, row_of

VISIBILITIES = ("public", "unlisted", "followers", "direct")
PEOPLE = 4


@dataclass(frozen=True)
class World:
    follows: frozenset[tuple[int, int]]      # (follower, followed)
    blocks: frozenset[tuple[int, int]]       # (blocker, blocked)
    locked: frozenset[int]
    grants: frozenset[tuple[int, int]]       # (locked one, follower let in)
    posts: tuple[tuple[int, str, frozenset[int]], ...]   # (author, visibility, mentioned)
    boosts: frozenset[tuple[int, int]] = frozenset()      # (booster, index of the post boosted)


pairs = st.frozensets(st.tuples(st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1))
                      .filter(lambda p: p[0] != p[1]), max_size=8)
worlds = st.builds(
    World, follows=pairs, blocks=pairs, locked=st.frozensets(st.integers(0, PEOPLE - 1)), grants=pairs,
    posts=st.lists(st.tuples(st.integers(0, PEOPLE - 1), st.sampled_from(VISIBILITIES),
                             st.frozensets(st.integers(0, PEOPLE - 1), max_size=2)),
                   min_size=1, max_size=8).map(tuple),
    boosts=st.frozensets(st.tuples(st.integers(0, PEOPLE - 1), st.integers(0, 7)), max_size=8))


def may_see(world: World, viewer: int | None, author: int, visibility: str, mentioned: frozenset[int]) -> bool:
    if viewer == author:
        return True
    if viewer is None:
        return visibility in ("public", "unlisted")
    if (author, viewer) in world.blocks:
        return False
    if visibility in ("public", "unlisted") or viewer in mentioned:
        return True
    if visibility == "followers":
        return follows_in(world, viewer, author)
    return False


def follows_in(world: World, viewer: int, author: int) -> bool:
    """``viewer`` follows ``author`` and is let in (a locked author's grant): what a follow
    counts for, in followers-only posts and in the home timeline, as on Mastodon."""
    return (viewer, author) in world.follows and (author not in world.locked or (author, viewer) in world.grants)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
async def test_every_read_shows_a_post_only_to_whom_it_may_be_shown(database: Database, clock, world: World) -> None:
    people = [Author(clock) for _ in range(PEOPLE)]
    entries: list[Signed] = []
    for follower, followed in sorted(world.follows):
        entries.append(people[follower].phone.relate("follow", people[followed]))
    for blocker, blocked in sorted(world.blocks):
        entries.append(people[blocker].phone.relate("block", people[blocked]))
    for who in sorted(world.locked):
        entries.append(people[who].phone.write({"type": "profile", "locked": True}))
    for granter, follower in sorted(world.grants):
        entries.append(people[granter].phone.write({"type": "follow_accept", "target": people[follower].did}))
    written = []
    for author, visibility, mentioned in world.posts:
        post = people[author].phone.post(f"#seen by whom? {visibility}", visibility=visibility, tags=["seen"],
                                         mentions=sorted(people[m].did for m in mentioned))
        entries.append(post)
        written.append((post, author, visibility, mentioned))
    boosted = []   # (boost, booster, index of its post), oldest first
    for booster, index in sorted(world.boosts):
        if index < len(written):
            boosted.append((people[booster].phone.write({"type": "boost", "target": written[index][0].ref}),
                            booster, index))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, *people)
        await admit(ingest, *entries, *(boost for boost, _, _ in boosted))
    rows = {await post_row(database, post.id): (author, visibility, mentioned)
            for post, author, visibility, mentioned in written}
    post_rows = [await post_row(database, post.id) for post, _, _, _ in written]
    async with database.read() as conn:
        boost_ids = [await boost_status_id(conn, boost.id) for boost, _, _ in boosted]
    ids = {person: await row_of(database, person) for person in people}
    now = clock()
    for viewer in [None, *range(PEOPLE)]:
        viewer_row = None if viewer is None else ids[people[viewer]]
        expected = {row for row, (author, vis, mentioned) in rows.items()
                    if may_see(world, viewer, author, vis, mentioned)}
        async with database.read() as conn:
            assert await statuses.visible_rows(conn, list(rows), viewer_row, now_ms=now) == expected
            for kind in ("public", "tag"):
                shown = set(await statuses.timeline(conn, kind, viewer_row, Page(limit=80), now_ms=now, tag="seen"))
                # ... and not from authors the viewer blocks, in timelines.
                assert shown & set(rows) == {row for row in expected if rows[row][1] == "public"
                                             and (viewer, rows[row][0]) not in world.blocks}
            for author in range(PEOPLE):
                shown = set(await statuses.timeline(conn, "account", viewer_row, Page(limit=80), now_ms=now,
                                                    account=ids[people[author]]))
                assert shown == {row for row in expected if rows[row][0] == author}
            if viewer is not None:
                home = set(await statuses.timeline(conn, "home", viewer_row, Page(limit=80), now_ms=now))
                assert home <= expected
                assert home == {row for row in expected
                                if (rows[row][0] == viewer or follows_in(world, viewer, rows[row][0]))
                                and (viewer, rows[row][0]) not in world.blocks}
                page = await home_timeline(conn, viewer_row, Page(limit=80), now_ms=now)
                assert {item.post for item in page if item.boost is None} == home
                newest: dict[int, bytes] = {}   # post index -> its newest boost this home may hold
                # Newest as the store orders them, by (ts, entry row): boosts written at one
                # instant are ordered by their rows, which follow ingest's (device, seq) order.
                for (boost, booster, index), _ in sorted(zip(boosted, boost_ids, strict=True),
                                                         key=lambda pair: pair[1]):
                    author, visibility, mentioned = world.posts[index]
                    if (booster == viewer or follows_in(world, viewer, booster)) and author != viewer \
                            and may_see(world, viewer, author, visibility, mentioned) \
                            and not {(viewer, author), (viewer, booster), (booster, viewer)} & world.blocks:
                        newest[index] = boost.id
                assert {item.boost[2] for item in page if item.boost is not None} == {
                    boost for index, boost in newest.items() if post_rows[index] not in home}
            for (_, booster, index), sid in zip(boosted, boost_ids, strict=True):
                author, visibility, mentioned = world.posts[index]
                shown = may_see(world, viewer, author, visibility, mentioned) and (
                    viewer is None or (booster, viewer) not in world.blocks)
                found = await boost_by_status(conn, sid, viewer_row, now_ms=now)
                assert (found is not None) == shown


async def boost_status_id(conn: AsyncConnection, entry_id: bytes) -> int:
    found = (await conn.execute(select(reactions.c.ts, reactions.c.entry).join(entries, entries.c.id == reactions.c.entry)
                                .where(entries.c.entry_id == entry_id))).one()
    return statuses.status_id(found.ts, found.entry)


async def post_row(db: Database, entry_id: bytes) -> int:
    async with db.read() as conn:
        row = await statuses.row_of_entry(conn, entry_id)
    assert row is not None
    return row


async def test_a_device_log_read_by_anyone_withholds_private_posts_and_their_edits(database: Database,
                                                                                  clock) -> None:
    from weft.store.entries import log_range

    alice = Author(clock)
    public = alice.phone.post("for everyone")
    private = alice.phone.post("for my followers", visibility="followers")
    edit = alice.phone.edit(private, "still for my followers")
    secret = alice.phone.post("for you", visibility="direct")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, public, private, edit, secret)
    async with database.read() as conn:
        everything = await log_range(conn, alice.phone.did, 0, 10, now_ms=clock())
        shown = await log_range(conn, alice.phone.did, 0, 10, now_ms=clock(), public_only=True)
    assert [content is not None for _, content in everything] == [True] * 4
    assert [content is not None for _, content in shown] == [True, False, False, False]
    assert [header for header, _ in shown] == [header for header, _ in everything]   # the chain is whole
