"""The words of a search, made safe for SQLite FTS5 and PostgreSQL's tsquery. Pure.

A search box takes anything: quotes, operators (AND, OR, NOT, NEAR, ``-``, ``*``, ``:``),
SQL, emoji, control characters, lone surrogates from a JSON escape, ten kilobytes of it.
None of it may reach a query parser as syntax. So a query is cut at whitespace into at
most ``MAX_TERMS`` terms; each term loses what no database should be handed (NUL and the
other control characters, lone surrogates) and is quoted whole, so that the database's own
tokenizer splits it into words exactly as it split the posts: "don't" becomes the phrase
"don t" on SQLite and ``'don' <-> 't'`` on PostgreSQL, and matches what it matched in the
text. Terms are ANDed; the last also matches as a prefix (search as you type). A term
with no word in it (``-``, ``*``) matches nothing on its own and is ignored beside others.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_TERMS", "MAX_TERM_CHARS", "clean_text", "fts5_match", "search_terms", "tsquery_text"]

MAX_TERMS: Final = 16
MAX_TERM_CHARS: Final = 100

# C0 and C1 control characters (NUL among them: FTS5 ends a string there, PostgreSQL refuses
# it in text) become spaces, so that they still separate words.
_CONTROLS: Final = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0))}


def clean_text(value: str) -> str:
    """``value`` as a database may be handed it: control characters become spaces, lone
    surrogates (which UTF-8 cannot encode) are dropped."""
    return value.encode("utf-8", "ignore").decode("utf-8").translate(_CONTROLS)


def search_terms(query: str) -> list[str]:
    """The terms of ``query``: at most MAX_TERMS whitespace-separated pieces, each cut to
    MAX_TERM_CHARS characters. Empty when there is nothing to look for."""
    return [term[:MAX_TERM_CHARS] for term in clean_text(query).split()[:MAX_TERMS]]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression for ``terms`` (non-empty): each a quoted string, ``"`` doubled
    inside; the last followed by ``*``. Inside quotes FTS5 knows no operators."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery_text(terms: list[str]) -> str:
    """A ``to_tsquery`` input for ``terms`` (non-empty): each in single quotes, with ``'``
    doubled and ``\\`` escaped; joined by ``&``; the last with ``:*``."""
    quoted = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms]
    quoted[-1] += ":*"
    return " & ".join(quoted)
