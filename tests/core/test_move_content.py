"""The content of an account's migration: a profile's ``aliases`` (the accounts it moves
from) and the ``move`` entry (where it went), as the core validates them and as
docs/protocol/entries.md writes them down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.core.content import KNOWN_TYPES, MAX_ALIASES, ContentError, decode_content, encode_content
from weft.core.encoding import canonical

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol"
DID = "did:weft:" + "a" * 48
HOSTS = st.from_regex(r"[a-z][a-z0-9\-]{0,20}(\.[a-z]{2,6}){1,2}(:[0-9]{2,5})?", fullmatch=True)
USERS = st.from_regex(r"[A-Za-z0-9_]{1,30}", fullmatch=True)
ACTORS = st.builds(lambda scheme, host, user: f"{scheme}://{host}/users/{user}",
                   st.sampled_from(["http", "https"]), HOSTS, USERS)


@given(st.lists(ACTORS, max_size=MAX_ALIASES, unique=True))
def test_a_profile_lists_up_to_ten_different_actors_it_moves_from(aliases: list[str]) -> None:
    profile = {"type": "profile", "name": "Alice", "aliases": aliases}
    assert decode_content(encode_content(profile)) == profile


@given(st.lists(ACTORS, min_size=MAX_ALIASES + 1, max_size=MAX_ALIASES + 5, unique=True))
def test_more_than_ten_aliases_are_refused(aliases: list[str]) -> None:
    with pytest.raises(ContentError, match="aliases"):
        encode_content({"type": "profile", "aliases": aliases})


@given(ACTORS)
def test_an_alias_named_twice_is_refused(actor: str) -> None:
    with pytest.raises(ContentError, match="different"):
        encode_content({"type": "profile", "aliases": [actor, actor]})


@pytest.mark.parametrize("aliases", [
    "https://old.example/users/a", [DID], ["alice@old.example"], ["ftp://old.example/a"], [3], [None],
    ["https://old example/users/a"], [{"id": "https://old.example/users/a"}],
], ids=repr)
def test_aliases_that_are_not_actor_iris_are_refused(aliases: Any) -> None:
    with pytest.raises(ContentError, match="aliases"):
        encode_content({"type": "profile", "aliases": aliases})


@given(st.one_of(ACTORS, st.just(DID)))
def test_a_move_names_where_the_author_went(target: str) -> None:
    move = {"type": "move", "target": target}
    data = encode_content(move)
    assert data == canonical(move) and decode_content(data) == move


@pytest.mark.parametrize("move", [
    {"type": "move"},
    {"type": "move", "target": "alice@new.example"},
    {"type": "move", "target": "did:weft:short"},
    {"type": "move", "target": ["https://new.example/users/a"]},
    {"type": "move", "target": "https://new.example/users/a", "note": "see you there"},
], ids=repr)
def test_a_move_to_nobody_or_with_more_to_say_is_refused(move: dict[str, Any]) -> None:
    with pytest.raises(ContentError):
        encode_content(move)


def test_the_entries_document_describes_every_known_type_and_the_aliases() -> None:
    text = (DOCS / "entries.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    described = {name.strip("` ") for row in rows for name in row.split("|")[1].split(",")}
    assert described >= KNOWN_TYPES
    profile_row = next(row for row in rows if row.startswith("| `profile`"))
    assert "`aliases?`" in profile_row and "at most 10" in profile_row
    assert "`move`" in (DOCS / "views.md").read_text()
