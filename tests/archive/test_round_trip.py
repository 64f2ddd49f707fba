"""Moving an identity's history from one node to another with weft export / weft import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from weft import custody
from weft.archive import export_archive, import_archive
from weft.core.archive import entry_parts
from weft.errors import ArchiveError, NotFound
from weft.ingest import Offer
from weft.node import Node
from weft.store.schema import entries

from .conftest import Clock, MakeConfig, row_counts

MINUTE = 60_000


@dataclass
class Alice:
    did: str
    hello: str
    deleted: str
    reply: str


async def write_history(node: Node, clock: Clock) -> Alice:
    """Alice posts, edits one post, deletes another, replies to herself and likes her post."""
    tick = clock.advance
    did = await custody.init_identity(node, "alice", "laptop")
    tick(MINUTE)
    hello = await node.post("hello #weft")
    tick(MINUTE)
    doomed = await node.post("a post I regret")
    tick(MINUTE)
    reply = await node.post("replying to myself", reply_to=hello.id_text)
    tick(MINUTE)
    await node.edit(hello.id_text, "hello, edited")
    tick(MINUTE)
    await node.react("like", hello.id_text)
    tick(MINUTE)
    await node.delete(doomed.id_text)
    tick(MINUTE)
    return Alice(did, hello.id_text, doomed.id_text, reply.id_text)


async def test_an_imported_history_shows_in_a_followers_feed(any_config: MakeConfig, clock: Clock,
                                                             tmp_path: Path) -> None:
    archive = tmp_path / "alice.weft"
    async with Node.open(any_config("a"), clock=clock) as a:
        alice = await write_history(a, clock)
        written = await export_archive(a, archive)
        expected = {(p.id, p.text, p.likes) for p in await a.feed()}
    assert written["identity"] == alice.did
    assert (written["ops"], written["entries"], written["header_only"]) == (1, 7, 1)
    async with Node.open(any_config("b"), clock=clock) as b:
        await custody.init_identity(b, "bob", "desk")
        await b.relate("follow", alice.did)
        result = await import_archive(b, archive)
        feed = await b.feed()
        deleted = await b.show(alice.deleted)
    assert (result["ops_new"], result["new"], result["duplicate"], result["rejected"]) == (1, 7, 0, 0)
    assert {(p.id, p.text, p.likes) for p in feed} == expected
    assert {p.text for p in feed} == {"hello, edited", "replying to myself"}
    assert [p.author_name for p in feed] == ["alice", "alice"]
    assert deleted["content"] is None


async def test_importing_twice_changes_nothing_the_second_time(make_config: MakeConfig, clock: Clock,
                                                               tmp_path: Path) -> None:
    archive = tmp_path / "alice.weft"
    async with Node.open(make_config("a"), clock=clock) as a:
        await write_history(a, clock)
        await export_archive(a, archive)
    async with Node.open(make_config("b"), clock=clock) as b:
        first = await import_archive(b, archive)
        before = await row_counts(b)
        second = await import_archive(b, archive)
        assert await row_counts(b) == before
    assert first["new"] == 7
    assert (second["ops_new"], second["new"], second["duplicate"], second["rejected"]) == (0, 0, 7, 0)


async def test_the_exporting_node_can_import_its_own_archive(make_config: MakeConfig, clock: Clock,
                                                             tmp_path: Path) -> None:
    async with Node.open(make_config("a"), clock=clock) as a:
        await write_history(a, clock)
        await export_archive(a, tmp_path / "alice.weft")
        result = await import_archive(a, tmp_path / "alice.weft")
    assert (result["new"], result["duplicate"]) == (0, 7)


async def test_a_node_can_pass_on_an_identity_it_imported(make_config: MakeConfig, clock: Clock,
                                                          tmp_path: Path) -> None:
    async with Node.open(make_config("a"), clock=clock) as a:
        alice = await write_history(a, clock)
        await export_archive(a, tmp_path / "from-a.weft")
    async with Node.open(make_config("b"), clock=clock) as b:
        await import_archive(b, tmp_path / "from-a.weft")
        written = await export_archive(b, tmp_path / "from-b.weft", did=alice.did)
    async with Node.open(make_config("c"), clock=clock) as c:
        result = await import_archive(c, tmp_path / "from-b.weft")
        hello = await c.show(alice.hello)
    assert written["entries"] == result["new"] == 7
    assert hello["post"]["text"] == "hello, edited"


async def test_expired_content_is_not_exported_even_while_still_held(make_config: MakeConfig,
                                                                     clock: Clock, tmp_path: Path) -> None:
    archive = tmp_path / "alice.weft"
    tick = clock.advance
    async with Node.open(make_config("a"), clock=clock) as a:
        await custody.init_identity(a, "alice", "laptop")
        fleeting = await a.post("gone soon", expires_in_ms=MINUTE)
        tick(2 * MINUTE)  # expired, but no purge has run: the content is still in the database
        async with a.db.read() as conn:
            stored = (await conn.execute(select(entries.c.content).where(
                entries.c.entry_id == fleeting.id))).scalar_one()
        assert stored is not None
        assert (await a.show(fleeting.id_text))["content"] is None  # but nobody is shown it
        written = await export_archive(a, archive)
    lines = archive.read_bytes().splitlines(keepends=True)
    assert written["header_only"] == 1
    assert any(line.startswith(b'{"content":null,') for line in lines)
    assert b"gone soon" not in archive.read_bytes()
    async with Node.open(make_config("b"), clock=clock) as b:
        result = await import_archive(b, archive)
        held = await b.show(fleeting.id_text)
    assert (result["new"], result["header_only"]) == (2, 1)
    assert held["content"] is None and held["header"]["seq"] == 2


async def test_a_header_only_entry_gets_its_content_from_a_later_archive(make_config: MakeConfig,
                                                                        clock: Clock, tmp_path: Path) -> None:
    """A node holding headers without content takes the content from an archive that has it."""
    async with Node.open(make_config("a"), clock=clock) as a:
        await custody.init_identity(a, "alice", "laptop")
        post = await a.post("hello")
        await export_archive(a, tmp_path / "full.weft")
    lines = (tmp_path / "full.weft").read_bytes().splitlines(keepends=True)
    async with Node.open(make_config("b"), clock=clock) as b:
        await b.ingest.identity_ops([line[len(b'{"op":'):-2] for line in lines if line.startswith(b'{"op":')])
        headers = [parts[0] for line in lines if (parts := entry_parts(line)) is not None]
        assert [o.status for o in await b.ingest.entries([Offer(h) for h in headers])] == ["stored"] * 2
        assert (await b.show(post.id_text))["content"] is None
        result = await import_archive(b, tmp_path / "full.weft")
        held = await b.show(post.id_text)
    assert (result["new"], result["duplicate"]) == (0, 2)
    assert held["content"] == {"type": "post", "text": "hello"}


async def test_exporting_an_identity_the_node_does_not_hold_fails(make_config: MakeConfig,
                                                                  tmp_path: Path) -> None:
    async with Node.open(make_config("a")) as a:
        with pytest.raises(NotFound, match="does not hold the identity log"):
            await export_archive(a, tmp_path / "x.weft", did="did:weft:" + "a" * 48)
    assert not (tmp_path / "x.weft").exists()


async def test_exporting_into_a_missing_directory_fails_with_one_line(make_config: MakeConfig,
                                                                      clock: Clock, tmp_path: Path) -> None:
    async with Node.open(make_config("a"), clock=clock) as a:
        await custody.init_identity(a, "alice", "laptop")
        with pytest.raises(ArchiveError, match=r"^cannot write .*: No such file or directory$"):
            await export_archive(a, tmp_path / "nowhere" / "x.weft")
