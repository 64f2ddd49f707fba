"""A damaged archive is refused whole, with a message that names the line, and writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weft import custody
from weft.archive import export_archive, import_archive
from weft.errors import ArchiveError
from weft.node import Node

from .conftest import Clock, MakeConfig, Runner, row_counts

NAMES_A_LINE = re.compile(r"\bline \d+\b")


@pytest.fixture
def small_archive(make_config: MakeConfig, clock: Clock, tmp_path: Path, runner: Runner) -> bytes:
    """Alice's profile, a post, its edit, a deleted post (header only) and the delete: about 4 KB."""
    async def build() -> bytes:
        async with Node.open(make_config("alice"), clock=clock) as a:
            await custody.init_identity(a, "alice", "laptop")
            hello = await a.post("hello")
            doomed = await a.post("doomed")
            await a.edit(hello.id_text, "hello, edited")
            await a.delete(doomed.id_text)
            await export_archive(a, tmp_path / "alice.weft")
        return (tmp_path / "alice.weft").read_bytes()

    return runner.run(build())


@pytest.fixture
def bob(make_config: MakeConfig, clock: Clock, runner: Runner) -> Iterator[Node]:
    """An importing node that already holds something of its own."""
    context = Node.open(make_config("bob"), clock=clock)
    run = runner.run
    node = run(context.__aenter__())
    run(custody.init_identity(node, "bob", "desk"))
    try:
        yield node
    finally:
        run(context.__aexit__(None, None, None))


async def refused(node: Node, path: Path, data: bytes) -> str:
    path.write_bytes(data)
    with pytest.raises(ArchiveError) as caught:
        await import_archive(node, path)
    message = str(caught.value)
    assert "\n" not in message
    return message


async def test_every_flipped_bit_is_refused_and_nothing_is_written(small_archive: bytes, bob: Node,
                                                                   tmp_path: Path) -> None:
    before = await row_counts(bob)
    for position in range(len(small_archive)):
        damaged = bytearray(small_archive)
        damaged[position] ^= 0x01
        message = await refused(bob, tmp_path / "damaged.weft", bytes(damaged))
        assert NAMES_A_LINE.search(message), (position, message)
    assert await row_counts(bob) == before
    assert (await import_archive(bob, _write(tmp_path / "intact.weft", small_archive)))["new"] == 5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_any_replaced_byte_is_refused_and_nothing_is_written(small_archive: bytes, bob: Node,
                                                                  tmp_path: Path, data: st.DataObject) -> None:
    before = await row_counts(bob)
    position = data.draw(st.integers(0, len(small_archive) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != small_archive[position]), label="value")
    damaged = bytearray(small_archive)
    damaged[position] = value
    message = await refused(bob, tmp_path / "damaged.weft", bytes(damaged))
    assert NAMES_A_LINE.search(message), message
    assert await row_counts(bob) == before


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_content_that_does_not_match_its_header_is_named(small_archive: bytes, bob: Node,
                                                              tmp_path: Path) -> None:
    damaged = small_archive.replace(b'"text":"hello"', b'"text":"HELLO"')
    message = await refused(bob, tmp_path / "damaged.weft", damaged)
    assert re.fullmatch(r"line 4: entry [a-z2-7]{52} \(device did:key:z6Mk\S+…, seq 2\): "
                        r"content does not match content_hash \(content_mismatch\)", message), message


async def test_a_line_that_is_not_json_is_named_with_the_entry_before_it(small_archive: bytes, bob: Node,
                                                                        tmp_path: Path) -> None:
    lines = small_archive.splitlines(keepends=True)
    lines[4] = lines[4].replace(b'"entry":{', b'"entry":{{', 1)
    message = await refused(bob, tmp_path / "damaged.weft", b"".join(lines))
    assert re.fullmatch(r"line 5 is not valid JSON \(after entry [a-z2-7]{52} "
                        r"\(device did:key:z6Mk\S+…, seq 2\)\)", message), message


async def test_a_truncated_archive_is_refused_wherever_it_was_cut(small_archive: bytes, bob: Node,
                                                                  tmp_path: Path) -> None:
    before = await row_counts(bob)
    lines = small_archive.splitlines(keepends=True)
    cuts = {sum(map(len, lines[:n])) for n in range(1, len(lines))}  # whole lines missing
    cuts |= {len(small_archive) - 1, len(small_archive) - 30, len(small_archive) // 2}  # cut mid-line
    for cut in sorted(cuts):
        message = await refused(bob, tmp_path / "cut.weft", small_archive[:cut])
        assert "truncated" in message, (cut, message)
    assert await refused(bob, tmp_path / "empty.weft", b"") == "the file is empty: not a weft archive"
    assert await row_counts(bob) == before


async def test_a_line_appended_after_the_trailer_is_refused(small_archive: bytes, bob: Node,
                                                           tmp_path: Path) -> None:
    lines = small_archive.splitlines(keepends=True)
    message = await refused(bob, tmp_path / "long.weft", small_archive + lines[3])
    assert message == f"line {len(lines) + 1}: there is more after the trailer line"


async def test_records_moved_around_are_refused(small_archive: bytes, bob: Node, tmp_path: Path) -> None:
    lines = small_archive.splitlines(keepends=True)
    swapped = [*lines[:3], lines[4], lines[3], *lines[5:]]
    message = await refused(bob, tmp_path / "swapped.weft", b"".join(swapped))
    assert message.startswith("line 4: entry ") and "(gap)" in message, message
    dropped = lines[:4] + lines[5:]
    message = await refused(bob, tmp_path / "dropped.weft", b"".join(dropped))
    assert message.startswith("line 5: entry ") and "(gap)" in message, message


@pytest.mark.parametrize("data", [
    b"",
    b"hello, this is a text file\n",
    b'{"some":"json"}\n',
    bytes(range(256)) * 400,
    b'{"archive":"weft","v":1}',
])
async def test_a_file_that_is_not_an_archive_is_refused(bob: Node, tmp_path: Path, data: bytes) -> None:
    message = await refused(bob, tmp_path / "other.txt", data)
    assert "not a weft archive" in message or "truncated" in message, message


async def test_an_unreadable_path_is_refused_with_one_line(bob: Node, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"^cannot read .*missing\.weft: No such file or directory$"):
        await import_archive(bob, tmp_path / "missing.weft")
    with pytest.raises(ArchiveError, match=r"^cannot read .*: Is a directory$"):
        await import_archive(bob, tmp_path)
