"""Searching people and hashtags, and what is trending.

People are found by the start of a hosted username, of any word of their display name, or of
their DID (its short form on), ignoring case; exact usernames first, then people hosted here;
never an account awaiting approval or disabled. Hashtags are found by their start, most used
first. Trends rank hashtags by how many people used them in public posts today and
yesterday, with a day-by-day history; nothing private, deleted or expired counts.
"""

from __future__ import annotations

import pytest

from weft.errors import UsageError
from weft.ingest import Ingest
from weft.store import search
from weft.store.accounts import insert_account
from weft.store.database import Database
from weft.store.search import DAY_MS, DayUse, TagTrend

from .world import Author, admit, introduce, row_of


async def host(db: Database, author: Author, username: str, state: str = "active") -> int:
    """Make ``author`` an account of this node; returns its identity row."""
    identity = await row_of(db, author)
    async with db.write() as conn:
        await insert_account(conn, {"identity": identity, "username": username, "password_hash": "-",
                                    "created_at": 0, "device_key": b"-", "rotation_key": b"-", "state": state})
    return identity


async def people(db: Database, query: str, *, limit: int = 20, offset: int = 0) -> list[int]:
    async with db.read() as conn:
        return await search.search_accounts(conn, query, limit=limit, offset=offset)


def named(author: Author, name: str):
    return author.phone.write({"type": "profile", "name": name})


async def test_people_are_found_by_username_display_name_or_did(database, clock) -> None:
    alice, alfred, bob, mallory = Author(clock), Author(clock), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, alfred, bob, mallory)
        await admit(ingest, named(alice, "Alice Liddell"), named(alfred, "Alfred Pennyworth"),
                    named(bob, "Robert 'Bob' Tables%"))
    alice_row = await host(database, alice, "Alice")
    bob_row = await host(database, bob, "bobby_t")
    alfred_row, mallory_row = await row_of(database, alfred), await row_of(database, mallory)
    assert await people(database, "alice") == [alice_row]
    assert await people(database, "@ALI") == [alice_row]
    assert await people(database, "lidd") == [alice_row], "any word of a display name"
    assert await people(database, "penny") == [alfred_row]
    assert await people(database, "iddell") == [], "words are matched from their start"
    assert await people(database, "al") == [alice_row, alfred_row], "people hosted here first"
    assert await people(database, "bobby_") == [bob_row]
    assert await people(database, "bobby%") == [], "% and _ are characters, not wildcards"
    assert await people(database, "bob") == [bob_row], "'Bob' is a word, but bob is a username prefix anyway"
    short = mallory.did.removeprefix("did:weft:")[:16]
    assert await people(database, short) == [mallory_row], "a DID's short form"
    assert await people(database, short.upper()) == [mallory_row]
    assert await people(database, mallory.did[:20]) == [mallory_row]
    assert await people(database, "") == await people(database, "  @ ") == []


async def test_an_exact_username_comes_first(database, clock) -> None:
    ann, anna, annabel = Author(clock), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, ann, anna, annabel)
    annabel_row = await host(database, annabel, "annabel")
    anna_row = await host(database, anna, "anna")
    ann_row = await host(database, ann, "ann")
    # Identity rows were made in the order ann, anna, annabel: the tie-break.
    assert await people(database, "ann") == [ann_row, anna_row, annabel_row]
    assert await people(database, "ANNA") == [anna_row, annabel_row]
    assert await people(database, "annab") == [annabel_row]
    assert await people(database, "ann", limit=1, offset=1) == [anna_row]


async def test_accounts_awaiting_approval_or_disabled_are_not_found(database, clock) -> None:
    pending, disabled, active = Author(clock), Author(clock), Author(clock)
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, pending, disabled, active)
        await admit(ingest, named(pending, "Zed Pending"), named(disabled, "Zed Disabled"),
                    named(active, "Zed Active"))
    await host(database, pending, "zedp", state="pending")
    await host(database, disabled, "zedd", state="disabled")
    active_row = await host(database, active, "zeda")
    assert await people(database, "zed") == [active_row]
    assert await people(database, pending.did[:24]) == []
    assert await people(database, "pending") == []


async def test_a_deleted_profile_name_is_not_found(database, clock) -> None:
    carol = Author(clock)
    profile = named(carol, "Carol Secretname")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, carol)
        await admit(ingest, profile)
        assert await people(database, "secretn") == [await row_of(database, carol)]
        await admit(ingest, carol.phone.delete(profile))
    assert await people(database, "secretn") == []


async def tags(db: Database, query: str, limit: int = 10) -> list[tuple[str, int]]:
    async with db.read() as conn:
        return await search.search_tags(conn, query, limit=limit)


async def test_hashtags_are_found_by_their_start_most_used_first(database, clock) -> None:
    alice, bob = Author(clock), Author(clock)
    written = [alice.phone.post("a", tags=["Food"]), alice.phone.post("b", tags=["foo", "food"]),
               bob.phone.post("c", tags=["#food"]), bob.phone.post("d", tags=["football"]),
               bob.phone.post("e", tags=["foo"], visibility="unlisted"),
               bob.phone.post("f", tags=["foolish"], visibility="followers"),
               bob.phone.post("g", tags=["fool"], visibility="direct"),
               alice.phone.post("h", tags=["2024", "2024wrapped"]), alice.phone.post("i", tags=["bar"])]
    gone = alice.phone.post("j", tags=["football", "fooled"])
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice, bob)
        await admit(ingest, *written, gone)
        await admit(ingest, alice.phone.delete(gone))
    assert await tags(database, "#FOO") == [("food", 3), ("foo", 2), ("football", 1)]
    assert await tags(database, "foo", limit=1) == [("food", 3)]
    assert await tags(database, "fool") == [], "tags of private posts are not told"
    assert await tags(database, "fooled") == [], "nor those of deleted posts"
    assert await tags(database, "20") == [("2024wrapped", 1)], "digits can begin a tag (not be one)"
    assert await tags(database, "%") == await tags(database, "_") == []
    assert await tags(database, "#") == await tags(database, "") == []


async def trends(db: Database, now: int, **kwargs) -> list[TagTrend]:
    async with db.read() as conn:
        return await search.trending_tags(conn, now_ms=now, **kwargs)


async def test_trends_rank_by_people_today_and_yesterday_with_a_daily_history(database, clock) -> None:
    people_ = [Author(clock) for _ in range(4)]
    clock.advance(10 * DAY_MS)
    now = clock()
    today = now - now % DAY_MS
    at = lambda days_ago, ms=1000: today - days_ago * DAY_MS + ms  # noqa: E731
    a, b, c, d = people_
    written = [
        # 'cats': three people yesterday and today
        a.phone.post("1", tags=["cats"], ts=at(0)), b.phone.post("2", tags=["cats"], ts=at(1)),
        c.phone.post("3", tags=["cats"], ts=at(1, 2000)),
        # 'dogs': one person, many posts, today; and two people four days ago
        *[a.phone.post(f"d{n}", tags=["dogs"], ts=at(0, 3000 + n)) for n in range(5)],
        c.phone.post("5", tags=["dogs"], ts=at(4)), d.phone.post("6", tags=["dogs"], ts=at(4)),
        # 'birds': two people today
        b.phone.post("7", tags=["birds"], ts=at(0)), d.phone.post("8", tags=["Birds"], ts=at(0)),
        # 'old': only long ago; 'secret': only in posts not public
        a.phone.post("9", tags=["old"], ts=at(3)),
        b.phone.post("10", tags=["secret"], ts=at(0), visibility="unlisted"),
        c.phone.post("11", tags=["secret"], ts=at(0), visibility="followers"),
        d.phone.post("12", tags=["secret"], ts=at(0), visibility="direct"),
        # expired already, or deleted: not counted
        d.phone.post("13", tags=["cats", "fleeting"], ts=at(0), expires=now - 1),
    ]
    deleted = d.phone.post("14", tags=["cats", "fleeting"], ts=at(0))
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, *people_)
        await admit(ingest, *written, deleted)
        await admit(ingest, d.phone.delete(deleted))
    found = await trends(database, now, days=5)
    assert [trend.name for trend in found] == ["cats", "birds", "dogs"]
    cats, birds, dogs = found
    days = [today - n * DAY_MS for n in range(5)]
    assert cats.history == (DayUse(days[0], 1, 1), DayUse(days[1], 2, 2), DayUse(days[2], 0, 0),
                            DayUse(days[3], 0, 0), DayUse(days[4], 0, 0))
    assert birds.history[0] == DayUse(days[0], 2, 2)
    assert dogs.history == (DayUse(days[0], 5, 1), DayUse(days[1], 0, 0), DayUse(days[2], 0, 0),
                            DayUse(days[3], 0, 0), DayUse(days[4], 2, 2))
    assert [trend.name for trend in await trends(database, now, limit=2)] == ["cats", "birds"]
    assert len((await trends(database, now))[0].history) == 7
    async with database.read() as conn:
        assert await search.tag_history(conn, "#DOGS", now_ms=now, days=5) == dogs.history
        assert await search.tag_history(conn, "secret", now_ms=now, days=2) == (DayUse(days[0], 0, 0),
                                                                               DayUse(days[1], 0, 0))
        assert await search.tag_history(conn, "old", now_ms=now, days=4) == (
            DayUse(days[0], 0, 0), DayUse(days[1], 0, 0), DayUse(days[2], 0, 0), DayUse(days[3], 1, 1))
        with pytest.raises(UsageError):
            await search.tag_history(conn, "dogs", now_ms=now, days=0)
    # Two days later, today's posts are the day before yesterday's: no longer trending.
    assert await trends(database, now + 2 * DAY_MS) == []
