"""Delete and expiry remove the bytes, not just the view: the text is nowhere in the database files.

The policy (docs/decisions/0002-deletion.md): SQLite runs with secure_delete and the
writer checkpoints the WAL with TRUNCATE after any transaction that removed content;
PostgreSQL gets a VACUUM of the entries table (and so of its TOAST table). The headers
stay, so each device log still verifies from its first entry to its head. The search index
holds the words too (decision 0005): on SQLite it is merged before the checkpoint, so no old
FTS5 segment keeps them.

The texts are random, so they cannot be found by chance, and long enough on PostgreSQL
to be stored out of line (TOAST) as well as inline. Each test first checks that the
text *is* in the files before the delete, so a test that looks in the wrong place fails.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import text

from weft import custody
from weft.config import NodeConfig
from weft.core.entry import check_chain, decode_entry
from weft.core.ids import entry_id_text
from weft.node import Node


def secret_text(size: int) -> str:
    """Random words (so neither compressible nor found by chance) of about ``size`` characters."""
    # urlsafe base64: too few repeats for PostgreSQL's LZ compression, so a long text is
    # stored out of line as it is, where a search for it can find it.
    return " ".join(secrets.token_urlsafe(12) for _ in range(max(1, size // 17)))


async def database_files(node: Node) -> list[Path]:
    """Every file this node's database keeps: SQLite's file, WAL and shared memory; or, on
    PostgreSQL, the files of every table and index of the node's schema (TOAST included)."""
    if node.db.dialect == "sqlite":
        path = node.db.sqlite_path
        assert path is not None
        return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    async with node.db.writer.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("CHECKPOINT"))  # pages from shared buffers to the files
        data_dir = (await conn.execute(text("SHOW data_directory"))).scalar_one()
        relations = (await conn.execute(text(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema OR c.oid IN ("
            "  SELECT reltoastrelid FROM pg_class t JOIN pg_namespace m ON m.oid = t.relnamespace"
            "  WHERE m.nspname = :schema AND reltoastrelid <> 0) OR c.oid IN ("
            "  SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT reltoastrelid FROM pg_class t"
            "  JOIN pg_namespace m ON m.oid = t.relnamespace WHERE m.nspname = :schema))"),
            {"schema": node.db.schema})).scalars().all()
    base = Path(data_dir)
    files: list[Path] = []
    for relative in relations:
        if relative is None:
            continue
        first = base / relative
        if not os.access(base, os.R_OK) or (first.exists() and not os.access(first, os.R_OK)):
            pytest.skip(f"PostgreSQL's data directory {base} is not readable by this user: "
                        "run the tests as its owner or as root to check the files themselves")
        files.extend(p for p in first.parent.glob(first.name + "*") if p.is_file())
    assert files, "no relation files found for the node's schema"
    return files


async def found_in_files(node: Node, needle: str) -> list[str]:
    """Files holding any word of ``needle``: PostgreSQL cuts a long value into ~2 KB TOAST
    chunks, so the whole text is never in one place, but every word is in some chunk."""
    words = [word.encode() for word in needle.split()]
    found = []
    for path in await database_files(node):
        data = path.read_bytes()
        if any(word in data for word in words):
            found.append(path.name)
    return found


async def chain_verifies(node: Node) -> None:
    """Every entry of this node's device log, header by header, from seq 1 to the head."""
    device = node.local().device.did
    headers = [decode_entry(header) for header, _ in await node.device_log(device, limit=1000)]
    seq, head = 0, None
    for entry in headers:
        check_chain(entry, seq, head)
        seq, head = entry.seq, entry.id
    assert seq == len(headers) and seq > 0


def _config(backend: str, request: pytest.FixtureRequest, tmp_path: Path, runner: Any) -> Iterator[NodeConfig]:
    """A node's config on ``backend``; a PostgreSQL node's schema is dropped afterwards."""
    if backend == "sqlite":
        yield NodeConfig.resolve(tmp_path / "node", None)
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid4().hex[:12]}"
    yield NodeConfig(tmp_path / "node", f"{url}?schema={schema}")

    async def drop() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    runner.run(drop())


@pytest.fixture(params=[
    pytest.param(("sqlite", 200), id="sqlite"),
    pytest.param(("postgresql", 200), id="postgresql-inline"),
    # The documented limit (docs/decisions/0002-deletion.md): VACUUM frees TOAST chunks without
    # overwriting them. Strict, so that if PostgreSQL ever does, the decision gets revisited.
    pytest.param(("postgresql", 6000), id="postgresql-toast", marks=pytest.mark.xfail(
        strict=True, reason="PostgreSQL's VACUUM marks a dead TOAST chunk free but leaves its bytes")),
])
def setup(request: pytest.FixtureRequest, tmp_path: Path, runner: Any) -> Iterator[tuple[NodeConfig, int]]:
    """A node's config on the backend named, and how long its texts are."""
    backend, size = request.param
    for config in _config(backend, request, tmp_path, runner):
        yield config, size


async def test_a_deleted_post_and_its_edits_leave_no_bytes_behind(setup, clock) -> None:
    config, size = setup
    original, edited, kept = secret_text(size), secret_text(size), secret_text(size)
    async with Node.open(config, clock=clock) as node:
        await custody.init_identity(node, "Dee")
        post = await node.post(original)
        clock.advance(1000)
        await node.edit(entry_id_text(post.id), edited)
        await node.post(kept)
        assert await found_in_files(node, original), "the post's text should be in the files first"
        assert await found_in_files(node, edited)
        clock.advance(1000)
        await node.delete(entry_id_text(post.id))
        assert await found_in_files(node, original) == []
        assert await found_in_files(node, edited) == []
        assert await found_in_files(node, kept), "other posts keep their text"
        await chain_verifies(node)


async def test_an_expired_post_leaves_no_bytes_behind(setup, clock) -> None:
    config, size = setup
    fleeting, kept = secret_text(size), secret_text(size)
    async with Node.open(config, clock=clock) as node:
        await custody.init_identity(node, "Eve")
        await node.post(fleeting, expires_in_ms=10_000)
        await node.post(kept)  # written after it, so no file ends where the expired text was
        assert await found_in_files(node, fleeting)
        clock.advance(10_001)
        assert await node.purge_expired() == 1
        assert await found_in_files(node, fleeting) == []
        assert await found_in_files(node, kept)
        await chain_verifies(node)


# -- the search index (docs/decisions/0005-search.md) ---------------------------------------
#
# The tests above look for the text as written; a search index holds its words as its
# tokenizer made them (lower case) and, in FTS5, with the start of each term shared with the
# one before it. So these texts are lower-case letters only, and what is looked for is the
# end of each word.


def indexed_words(count: int) -> list[str]:
    """Random lower-case words of 16 letters: each is one token, stored as it is written."""
    return ["".join(secrets.choice(string.ascii_lowercase) for _ in range(16)) for _ in range(count)]


async def word_ends_in_files(node: Node, words: list[str]) -> list[str]:
    return await found_in_files(node, " ".join(word[-12:] for word in words))


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    # The documented limit (docs/decisions/0005-search.md): GIN never takes a key out of its
    # tree (VACUUM takes the post out of the key's posting list; the word stays until the
    # index is rebuilt), and pruning a heap page moves live rows over dead ones without
    # zeroing what is left. Strict, so that if PostgreSQL ever does, the decision is revisited.
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.xfail(
        strict=True, reason="PostgreSQL's GIN index keeps the words of deleted rows until REINDEX")),
])
def indexed_setup(request: pytest.FixtureRequest, tmp_path: Path, runner: Any) -> Iterator[NodeConfig]:
    yield from _config(request.param, request, tmp_path, runner)


async def test_the_search_index_keeps_no_word_of_a_deleted_post_or_its_edits(indexed_setup, clock) -> None:
    original, edited, kept = indexed_words(12), indexed_words(12), indexed_words(12)
    async with Node.open(indexed_setup, clock=clock) as node:
        await custody.init_identity(node, "Dee")
        post = await node.post(" ".join(original))
        clock.advance(1000)
        await node.edit(entry_id_text(post.id), " ".join(edited))
        await node.post(" ".join(kept))
        assert await word_ends_in_files(node, original), "the index should hold the words first"
        assert await word_ends_in_files(node, edited)
        clock.advance(1000)
        await node.delete(entry_id_text(post.id))
        assert await word_ends_in_files(node, original) == []
        assert await word_ends_in_files(node, edited) == []
        assert await word_ends_in_files(node, kept), "other posts keep their words"


async def test_the_search_index_keeps_no_word_of_an_expired_post(indexed_setup, clock) -> None:
    fleeting, kept = indexed_words(12), indexed_words(12)
    async with Node.open(indexed_setup, clock=clock) as node:
        await custody.init_identity(node, "Eve")
        await node.post(" ".join(fleeting), expires_in_ms=10_000)
        await node.post(" ".join(kept))
        assert await word_ends_in_files(node, fleeting)
        clock.advance(10_001)
        assert await node.purge_expired() == 1
        assert await word_ends_in_files(node, fleeting) == []
        assert await word_ends_in_files(node, kept)
