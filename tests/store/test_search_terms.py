"""The words of a query, as the databases are handed them: never syntax, never a byte they refuse."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from weft.store.search_terms import (
    MAX_TERM_CHARS,
    MAX_TERMS,
    clean_text,
    fts5_match,
    search_terms,
    tsquery_text,
)


def test_a_query_is_cut_at_whitespace_into_terms() -> None:
    assert search_terms("  Don't\tpanic\n NEAR(the end) ") == ["Don't", "panic", "NEAR(the", "end)"]
    assert search_terms("") == search_terms(" \n\t ") == search_terms("\x00\x1f") == []


def test_quotes_become_literal_inside_quoted_terms() -> None:
    assert fts5_match(['say "hi"', "x*"]) == '"say ""hi""" "x*"*'
    assert tsquery_text(["it's", "a\\b"]) == "'it''s' & 'a\\\\b':*"


def test_control_characters_separate_words_and_lone_surrogates_go() -> None:
    assert clean_text("a\x00b\x7fc\x9fd\ud800e") == "a b c de"
    assert search_terms("one\x00two") == ["one", "two"]


@given(st.text())
def test_terms_are_few_short_and_clean(query: str) -> None:
    terms = search_terms(query)
    assert len(terms) <= MAX_TERMS
    for term in terms:
        assert 0 < len(term) <= MAX_TERM_CHARS
        assert term == term.strip()
        assert not any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in term)
        term.encode("utf-8")   # no lone surrogate


@given(st.lists(st.text(min_size=1), min_size=1, max_size=MAX_TERMS))
def test_every_term_stays_one_quoted_string(terms: list[str]) -> None:
    # Undo the quoting: what is left between the quotes is exactly the terms.
    match = fts5_match(terms)
    assert match.endswith("*")
    pieces, rest = [], match[:-1]
    while rest:
        assert rest[0] == '"'
        end = 1
        while True:
            end = rest.index('"', end)
            if rest[end + 1:end + 2] == '"':
                end += 2
                continue
            break
        pieces.append(rest[1:end].replace('""', '"'))
        rest = rest[end + 1:].removeprefix(" ")
    assert pieces == terms
