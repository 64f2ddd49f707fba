"""Keeping the full-text index of posts in step with what posts show (docs/decisions/0005-search.md).

What is indexed: the current text and content warning (``summary``) of every post that is
not deleted and whose text is held, keyed by its posts row. The fold indexes a post when
it arrives and again when an edit (or the delete or purge of an edit) changes its text;
``forget_posts`` unindexes it when it is deleted, expires or is purged.

SQLite: an FTS5 table (schema.SQLITE_VIRTUAL_TABLES). FTS5 never edits a segment in place:
removing a row writes a delete marker into a new segment, and the old one keeps the words
until a merge rewrites it. So after a transaction that removed content, the maintenance
checkpoint runs ``merge_post_index`` before it truncates the WAL: it merges every segment
into one new one, and secure_delete zeroes the pages of the old ones. That rewrites the
whole index (the decision record has the figures), so it happens only when rows were
actually taken out of the index since the last merge: an unlike or an unfollow also
removes content, but no words. The writer connection remembers that in its ``info``
(on SQLite there is one writer connection, and the checkpoint runs on it).

PostgreSQL: a table of tsvectors with a GIN index; VACUUM (maintenance.checkpoint) removes
a deleted row, as it does the entries it was made from. GIN never removes a key from its
tree, though: the words stay there, tied to no post, until the index is rebuilt. The
decision record says what that means and what an operator can do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, column, delete, func, insert, literal_column, table
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.store.schema import post_search
from weft.store.search_terms import clean_text
from weft.store.sql import select_in

__all__ = ["index_posts", "merge_owed", "merge_post_index", "unindex_posts"]

_CHUNK = 500
_MERGE_OWED = "weft.post_search.merge_owed"   # key in the writer connection's info

# SQLite's FTS5 table, as SQLAlchemy can write to it (schema.SQLITE_VIRTUAL_TABLES).
sqlite_post_search = table("post_search", column("rowid"), column("text"), column("summary"))


def document(content: bytes | None) -> tuple[str, str] | None:
    """(text, summary) of a post's or edit's content, as indexed; None if there is no word to index."""
    if content is None:
        return None
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    text, summary = (clean_text(part) if isinstance(part, str) else ""
                     for part in (value.get("text"), value.get("summary")))
    return (text, summary) if text or summary else None


async def index_posts(conn: AsyncConnection, rows: Sequence[int]) -> None:
    """(Re)index the current text of these posts rows; a deleted one, or one whose text is
    not held, ends up not indexed."""
    wanted = sorted(set(rows))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        held = await select_in(
            conn, "SELECT p.entry, e.content FROM posts p JOIN entries e ON e.id = p.text_entry "
                  "WHERE NOT p.deleted AND e.content IS NOT NULL AND p.entry {in}", chunk)
        documents = [(int(row), doc) for row, content in held if (doc := document(content)) is not None]
        await unindex_posts(conn, chunk)
        if documents:
            await _insert(conn, documents)


async def _insert(conn: AsyncConnection, documents: list[tuple[int, tuple[str, str]]]) -> None:
    if conn.dialect.name == "sqlite":
        await conn.execute(insert(sqlite_post_search), [
            {"rowid": row, "text": text, "summary": summary} for row, (text, summary) in documents])
        return
    # 'simple': lower-cased words, no stemming and no stop words, whatever the language.
    doc = func.to_tsvector(literal_column("'simple'::regconfig"), bindparam("b_doc"))
    await conn.execute(insert(post_search).values(post=bindparam("b_post"), doc=doc), [
        {"b_post": row, "b_doc": f"{text}\n{summary}"} for row, (text, summary) in documents])


async def unindex_posts(conn: AsyncConnection, rows: Iterable[int]) -> None:
    """Take these posts rows out of the index (deleted, expired, purged, or about to be reindexed)."""
    wanted = list(rows)
    target: Any = sqlite_post_search.c.rowid if conn.dialect.name == "sqlite" else post_search.c.post
    statement: Any = delete(sqlite_post_search if conn.dialect.name == "sqlite" else post_search)
    removed = 0
    for start in range(0, len(wanted), _CHUNK):
        result = await conn.execute(statement.where(target.in_(wanted[start:start + _CHUNK])))
        removed += result.rowcount or 0
    if removed and conn.dialect.name == "sqlite":
        conn.info[_MERGE_OWED] = True


def merge_owed(conn: AsyncConnection) -> bool:
    """Whether rows were taken out of SQLite's index through this connection since its last merge."""
    return bool(conn.info.get(_MERGE_OWED))


async def merge_post_index(conn: AsyncConnection) -> None:
    """SQLite: merge the FTS5 index into one segment, in a transaction of its own (``conn``
    must not be in one), so that no old segment keeps the words of a row taken out of it.
    It rewrites all of the index. Nothing to do on PostgreSQL (maintenance.checkpoint VACUUMs)."""
    if conn.dialect.name != "sqlite":
        return
    async with conn.begin():
        await conn.exec_driver_sql("INSERT INTO post_search(post_search) VALUES ('optimize')")
    conn.info.pop(_MERGE_OWED, None)   # only once committed: a failed merge is owed still
