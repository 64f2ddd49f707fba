"""Searching posts by their words: what is found, what stops being found, and who finds it.

A post is found by the words of its current text and content warning, in any case, the last
word of a query also by its start; newest first. An edit replaces the words found; a delete,
an expiry or a purge unfinds the post and takes it out of the index. Whatever a query holds
is words, never syntax. And a post is only ever found by whom it may be shown to.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from weft.ingest import Ingest
from weft.store import search, statuses
from weft.store.database import Database
from weft.store.search_index import merge_owed
from weft.store.views import apply_delete, expired_posts

from .test_visibility import World, may_see, worlds
from .world import Author, Signed, admit, introduce, make_local, row_of

PEOPLE = 4


async def find(db: Database, query: str, viewer: int | None = None, *, now: int, limit: int = 20,
               offset: int = 0, account: int | None = None) -> list[int]:
    async with db.read() as conn:
        return await search.search_posts(conn, query, viewer, limit=limit, offset=offset, now_ms=now,
                                         account=account)


async def rows(db: Database, *signed: Signed) -> list[int]:
    found = []
    async with db.read() as conn:
        for item in signed:
            row = await statuses.row_of_entry(conn, item.id)
            assert row is not None
            found.append(row)
    return found


async def indexed(db: Database, row: int) -> bool:
    """Whether the search index holds a document for this posts row (whatever it says)."""
    key = "rowid" if db.dialect == "sqlite" else "post"
    async with db.read() as conn:
        count = (await conn.execute(text(f"SELECT count(*) FROM post_search WHERE {key} = :row"),
                                    {"row": row})).scalar_one()
    return bool(count)


async def test_a_post_is_found_by_its_words_in_any_case_and_by_the_start_of_its_last(database, clock) -> None:
    alice = Author(clock)
    fox = alice.phone.post("The quick brown fox jumps")
    clock.advance(1000)
    dogs = alice.phone.post("Lazy dogs sleep all day")
    clock.advance(1000)
    warned = alice.phone.post("the ending is sad", summary="Spoilers for the film")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, fox, dogs, warned)
    fox_row, dogs_row, warned_row = await rows(database, fox, dogs, warned)
    now = clock()
    assert await find(database, "quick fox", now=now) == [fox_row]
    assert await find(database, "QUICK Brown", now=now) == [fox_row]
    assert await find(database, "fox jum", now=now) == [fox_row]
    assert await find(database, "jum fox", now=now) == [], "only the last word is a prefix"
    assert await find(database, "quick dogs", now=now) == [], "every word must be there"
    assert await find(database, "sleep", now=now) == [dogs_row]
    assert await find(database, "spoilers", now=now) == [warned_row], "the content warning is searched"
    assert await find(database, "the", now=now) == [warned_row, fox_row], "newest first"
    assert await find(database, "the", now=now, limit=1) == [warned_row]
    assert await find(database, "the", now=now, limit=1, offset=1) == [fox_row]
    assert await find(database, "the", now=now, offset=2) == []
    for nothing in ("", "   ", "\n\t"):
        assert await find(database, nothing, now=now) == []


async def test_letters_match_in_any_case_beyond_ascii(database, clock) -> None:
    alice = Author(clock)
    post = alice.phone.post("Crème brûlée at the Café Ñandú")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, post)
    [row] = await rows(database, post)
    assert await find(database, "CAFÉ ñandú", now=clock()) == [row]


@pytest.mark.backends("sqlite")
async def test_on_sqlite_accents_are_ignored_too(database, clock) -> None:
    # PostgreSQL's 'simple' configuration keeps them (docs/decisions/0005-search.md).
    alice = Author(clock)
    post = alice.phone.post("Crème brûlée at the Café")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, post)
    [row] = await rows(database, post)
    assert await find(database, "creme brulee cafe", now=clock()) == [row]


async def test_quotes_operators_and_sql_in_a_query_are_only_words(database, clock) -> None:
    alice = Author(clock)
    post = alice.phone.post("Don't panic: NEAR the end, use AND/OR -carefully (really)")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, post)
    [row] = await rows(database, post)
    now = clock()
    for query in ('"don\'t', "don't\"", "NEAR", "NEAR(the end)", "-carefully", "careful*", "(really",
                  "panic near END", "and/or", "end,", "Panic:"):
        assert await find(database, query, now=now) == [row], query
    for query in ("panic NOT", "panic OR nothing", "'; DROP TABLE posts; --", "*", '"', "-", "🙂", "\\"):
        assert await find(database, query, now=now) == [], query
    assert await find(database, "panic", now=now) == [row], "and the posts are all still there"


async def test_an_edit_replaces_the_words_found_and_deleting_the_edit_brings_them_back(database, clock) -> None:
    alice = Author(clock)
    post = alice.phone.post("original wording alpha")
    clock.advance(1000)
    edit = alice.phone.edit(post, "replacement wording beta")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, post)
        [row] = await rows(database, post)
        assert await find(database, "alpha", now=clock()) == [row]
        await admit(ingest, edit)
        assert await find(database, "alpha", now=clock()) == []
        assert await find(database, "beta wording", now=clock()) == [row]
        clock.advance(1000)
        await admit(ingest, alice.phone.delete(edit))
        assert await find(database, "beta", now=clock()) == []
        assert await find(database, "alpha", now=clock()) == [row]


async def test_an_edit_that_came_before_its_post_gives_the_words_found(database, clock) -> None:
    alice = Author(clock, "phone", "laptop")
    post = alice.phone.post("first draft gamma")
    clock.advance(1000)
    edit = alice.laptop.edit(post, "final text delta")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, edit)
        await admit(ingest, post)
    [row] = await rows(database, post)
    assert await find(database, "gamma", now=clock()) == []
    assert await find(database, "delta", now=clock()) == [row]


async def test_a_deleted_post_is_not_found_and_leaves_the_index(database, clock) -> None:
    alice = Author(clock)
    gone, kept = alice.phone.post("ephemeral words here"), alice.phone.post("lasting words here")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, gone, kept)
        gone_row, kept_row = await rows(database, gone, kept)
        assert set(await find(database, "words", now=clock())) == {gone_row, kept_row}
        await admit(ingest, alice.phone.delete(gone))
    assert await find(database, "words", now=clock()) == [kept_row]
    assert not await indexed(database, gone_row)
    assert await indexed(database, kept_row)


async def test_an_expired_post_is_not_found_at_once_and_leaves_the_index_when_purged(database, clock) -> None:
    alice = Author(clock)
    fleeting = alice.phone.post("fleeting thought", expires=clock() + 10_000)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, fleeting)
    [row] = await rows(database, fleeting)
    before = clock()
    assert await find(database, "fleeting", now=before) == [row]
    after = clock.advance(10_000)
    assert await find(database, "fleeting", now=after) == [], "hidden from the moment it expires"
    assert await indexed(database, row)
    async with database.write() as conn:   # what Node.purge_expired does
        for doomed, entry_id in await expired_posts(conn, after):
            await apply_delete(conn, doomed, entry_id)
    assert not await indexed(database, row)
    assert await find(database, "fleeting", now=before) == [], "gone from the index, not only hidden"


async def test_a_blocked_identitys_posts_leave_the_index_when_purged(database, clock) -> None:
    alice, mallory = Author(clock), Author(clock)
    spam = mallory.phone.post("buy cheap watches")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, mallory)
        await make_local(database, alice)
        await admit(ingest, spam)
        [row] = await rows(database, spam)
        assert await indexed(database, row)
        await admit(ingest, alice.phone.relate("block", mallory))
    assert not await indexed(database, row)
    assert await find(database, "watches", now=clock()) == []


async def test_one_authors_posts_and_none_of_those_the_viewer_mutes_or_blocks(database, clock) -> None:
    alice, bob, carol = Author(clock), Author(clock), Author(clock)
    posts = [person.phone.post(f"weather report by {name}")
             for person, name in ((alice, "alice"), (bob, "bob"), (carol, "carol"))]
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob, carol)
        await admit(ingest, *posts, alice.phone.relate("mute", bob), alice.phone.relate("block", carol))
    alice_row, bob_row, carol_row = [await row_of(database, person) for person in (alice, bob, carol)]
    by_alice, by_bob, by_carol = await rows(database, *posts)
    now = clock()
    assert set(await find(database, "weather", None, now=now)) == {by_alice, by_bob, by_carol}
    assert await find(database, "weather", None, now=now, account=bob_row) == [by_bob]
    assert await find(database, "weather", alice_row, now=now) == [by_alice]
    assert set(await find(database, "weather", bob_row, now=now)) == {by_alice, by_bob, by_carol}
    assert await find(database, "weather", carol_row, now=now, account=carol_row) == [by_carol]


_hostile = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('"*-^:()\\\'{}[]+~@#%_;\x00'), max_size=60),
    st.lists(st.sampled_from(['"', "*", "NEAR", "NEAR(", "AND", "OR", "NOT", "-", "^", ":", "(", ")", "'", "\\",
                              "&", "|", "!", "<->", ":*", "word", "text:", "\x00", "\ud800", "🙂", "%", "_"]),
             max_size=30).map(" ".join),
    st.integers(1, 12_000).map(lambda n: ("x\" " * n)[:n]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=_hostile)
async def test_no_query_is_ever_a_syntax_error(database, clock, query: str) -> None:
    async with database.read() as conn:
        assert isinstance(await search.search_posts(conn, query, None, limit=5, offset=0, now_ms=clock()), list)
        assert isinstance(await search.search_posts(conn, query, 1, limit=5, offset=3, now_ms=clock()), list)
        assert isinstance(await search.search_accounts(conn, query, limit=5, offset=0), list)
        assert isinstance(await search.search_tags(conn, query, limit=5), list)
        assert isinstance(await search.tag_history(conn, query, now_ms=clock(), days=2), tuple)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
async def test_a_post_is_found_only_by_whom_it_may_be_shown(database: Database, clock, world: World) -> None:
    # The model of tests/store/test_visibility.py; search also leaves out authors the viewer blocks.
    word = "w" + uuid.uuid4().hex   # this example's posts only: the database outlives examples
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
        post = people[author].phone.post(f"{word} for whom? {visibility}", visibility=visibility,
                                         mentions=sorted(people[m].did for m in mentioned))
        entries.append(post)
        written.append((post, author, visibility, mentioned))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, *people)
        await admit(ingest, *entries)
    found_rows = await rows(database, *(post for post, _, _, _ in written))
    shown = {row: (author, vis, mentioned) for row, (_, author, vis, mentioned) in zip(found_rows, written, strict=True)}
    ids = [await row_of(database, person) for person in people]
    for viewer in [None, *range(PEOPLE)]:
        viewer_row = None if viewer is None else ids[viewer]
        expected = {row for row, (author, vis, mentioned) in shown.items()
                    if may_see(world, viewer, author, vis, mentioned)
                    and (viewer is None or (viewer, author) not in world.blocks)}
        found = await find(database, word, viewer_row, now=clock(), limit=100)
        assert set(found) == expected
        for author in range(PEOPLE):
            assert set(await find(database, word, viewer_row, now=clock(), limit=100, account=ids[author])) == {
                row for row in expected if shown[row][0] == author}


async def segments(db: Database) -> int:
    """How many segments SQLite's FTS5 index is in (each has rows in its _idx table)."""
    async with db.read() as conn:
        return int((await conn.execute(text("SELECT count(DISTINCT segid) FROM post_search_idx"))).scalar_one())


@pytest.mark.backends("sqlite")
async def test_the_index_is_merged_after_words_leave_it_and_only_then(database, clock) -> None:
    # The merge rewrites the whole index, which is what a delete costs (decision 0005);
    # content removed without words (an unliked like) must not pay it.
    alice, bob = Author(clock), Author(clock)
    first, second = alice.phone.post("first post"), alice.phone.post("second post")
    like = bob.phone.react("like", first)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, first)
        await admit(ingest, second, like)
        assert await segments(database) == 2, "one segment per transaction that indexed posts"
        await admit(ingest, bob.phone.delete(like))     # removes content, so the writer checkpoints
        assert await segments(database) == 2
        await admit(ingest, alice.phone.delete(first))
        assert await segments(database) == 1
        async with database.writer.connect() as conn:
            assert not merge_owed(conn)
