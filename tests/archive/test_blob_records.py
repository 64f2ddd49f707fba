"""Blob records (archive version 2): parts of bounded size after the entries, each blob once,
only blobs the content names, bytes matching their name; version 1 archives still read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.archive import MAX_LINE_BYTES, ArchiveSummary, verify_lines
from weft.core.archive_blobs import BLOB_PART_BYTES, MAX_BLOB_BYTES, blob_part_line, part_count
from weft.core.archive_example import CREATED, LAPTOP, RED_DOT, SERVER, T0, build_example
from weft.core.archive_writer import ArchiveWriter
from weft.core.content import encode_content
from weft.core.encoding import b64url, canonical, sha256
from weft.core.entry import sign_entry
from weft.core.identity import sign_op
from weft.core.ids import did_from_genesis
from weft.errors import ArchiveError

GENESIS = sign_op(SERVER, prev=None, ts=T0, rotation_keys=[SERVER.did],
                  devices={LAPTOP.did: {"name": "laptop", "added": T0}})
DID = did_from_genesis(GENESIS.raw)
STRANGER = hashlib.sha256(b"someone else's picture").hexdigest()


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive(blobs: Sequence[bytes], *, named: Sequence[str] | None = None,
            avatar: str | None = None) -> list[bytes]:
    """An archive whose one post names ``named`` (default: the blobs' digests) and carries ``blobs``."""
    names = list(named) if named is not None else [digest_of(data) for data in blobs]
    contents = [{"type": "post", "text": "pictures", "attachments": [{"blob": name} for name in names]}]
    if avatar is not None:
        contents.append({"type": "profile", "name": "Alice", "avatar": f"https://old.example/media/{avatar}"})
    writer = ArchiveWriter(DID, CREATED, 1, len(contents))
    lines = [writer.start(), writer.op(GENESIS.raw)]
    prev = None
    for seq, content in enumerate(contents, start=1):
        entry = sign_entry(LAPTOP, author=DID, seq=seq, prev=prev, ts=T0 + seq, content=encode_content(content))
        lines.append(writer.entry(entry.raw, encode_content(content)))
        prev = entry.id
    for data in blobs:
        lines += [writer.blob_part(digest_of(data), len(data), part, data[(part - 1) * BLOB_PART_BYTES:
                                                                       part * BLOB_PART_BYTES])
                  for part in range(1, part_count(len(data)) + 1)]
    return [*lines, writer.end()]


def resealed(lines: list[bytes]) -> list[bytes]:
    """The same lines with the trailer's digest made right again: only the rule under test breaks."""
    body = lines[:-1]
    return [*body, canonical({"end": "weft", "sha256": b64url(sha256(b"".join(body)))}) + b"\n"]


def refusal(lines: list[bytes]) -> str:
    with pytest.raises(ArchiveError) as caught:
        verify_lines(lines, CREATED)
    message = str(caught.value)
    assert "\n" not in message
    return message


def record(line: bytes) -> dict[str, object]:
    value = orjson.loads(line)
    assert isinstance(value, dict)
    return value


def test_a_large_blob_goes_in_parts_each_line_under_the_limit() -> None:
    big = bytes(range(256)) * 500                    # 128,000 bytes: three parts
    lines = archive([big, RED_DOT])
    parts = [record(line) for line in lines if line.startswith(b'{"blob":')]
    assert [(p["blob"], p["part"]) for p in parts] == [(digest_of(big), 1), (digest_of(big), 2),
                                                       (digest_of(big), 3), (digest_of(RED_DOT), 1)]
    assert all(len(line) < MAX_LINE_BYTES for line in lines)
    summary = verify_lines(lines, CREATED)
    assert set(summary.blobs) == {digest_of(big), digest_of(RED_DOT)}
    assert summary.blob_bytes == len(big) + len(RED_DOT)
    assert summary.first_blob_line == 4 and summary.blobs[digest_of(RED_DOT)].first_line == 7
    post_id = hashlib.sha256(orjson.dumps(record(lines[2])["entry"], option=orjson.OPT_SORT_KEYS)).digest()
    assert summary.blob_refs == {digest_of(big): [post_id], digest_of(RED_DOT): [post_id]}


@settings(max_examples=40, deadline=None)
@given(size=st.sampled_from([1, 2, BLOB_PART_BYTES - 1, BLOB_PART_BYTES, BLOB_PART_BYTES + 1,
                             2 * BLOB_PART_BYTES, 2 * BLOB_PART_BYTES + 7]) | st.integers(1, 3 * BLOB_PART_BYTES),
       seed=st.binary(min_size=1, max_size=16))
def test_any_blob_size_writes_as_parts_a_reader_takes(size: int, seed: bytes) -> None:
    data = (seed * (size // len(seed) + 1))[:size]
    summary = verify_lines(archive([data]), CREATED)
    assert summary.blobs[digest_of(data)].size == size and summary.blobs_named == 1


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 2 * BLOB_PART_BYTES + 100), data=st.data())
def test_a_flipped_byte_in_a_blobs_data_is_refused(size: int, data: st.DataObject) -> None:
    blob = bytes((n * 7) % 251 for n in range(size))
    lines = archive([blob])
    position = data.draw(st.integers(0, size - 1), label="position")
    damaged = bytearray(blob)
    damaged[position] ^= data.draw(st.integers(1, 255), label="xor")
    part = position // BLOB_PART_BYTES
    line = 3 + part
    chunk = bytes(damaged[part * BLOB_PART_BYTES:(part + 1) * BLOB_PART_BYTES])
    lines[line] = blob_part_line(digest_of(blob), size, part + 1, chunk)
    message = refusal(resealed(lines))
    assert message == (f"line {3 + part_count(size)}: blob {digest_of(blob)}: its bytes do not match "
                       "its sha256 (blob_mismatch)")


def test_every_flipped_bit_of_a_blob_record_is_refused() -> None:
    lines = archive([RED_DOT])
    start = sum(map(len, lines[:3]))
    data = b"".join(lines)
    for position in range(start, start + len(lines[3])):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[position] ^= 1 << bit
            with pytest.raises(ArchiveError):
                verify_lines(bytes(damaged).splitlines(keepends=True), CREATED)


def test_a_wrong_size_is_refused() -> None:
    lines = archive([RED_DOT])
    fields = record(lines[3])
    for wrong in (len(RED_DOT) + 1, len(RED_DOT) - 1):
        lines[3] = canonical({**fields, "bytes": wrong}) + b"\n"
        message = refusal(resealed(lines))
        assert message.startswith(f"line 4: blob {digest_of(RED_DOT)} part 1 of 1: holds 69 bytes, not "), message


def test_a_blob_nobody_names_is_refused() -> None:
    lines = archive([], named=[STRANGER])
    stray = blob_part_line(digest_of(RED_DOT), len(RED_DOT), 1, RED_DOT)  # a writer refuses to write it
    assert refusal(resealed([*lines[:3], stray, lines[3]])) == f"line 4: blob {digest_of(RED_DOT)} is named by no entry of the archive"
    # Header-only entries name nothing: the content that named the blob is not there.
    with_content = archive([RED_DOT])
    header_only = [with_content[0], with_content[1],
                   with_content[2].replace(with_content[2][len(b'{"content":'):with_content[2].index(b',"entry":')],
                                           b"null"), *with_content[3:]]
    assert refusal(resealed(header_only)) == f"line 4: blob {digest_of(RED_DOT)} is named by no entry of the archive"


def test_a_profile_image_is_named_by_its_address() -> None:
    summary = verify_lines(archive([RED_DOT], named=[], avatar=digest_of(RED_DOT)), CREATED)
    assert list(summary.blobs) == [digest_of(RED_DOT)]


def test_a_blob_carried_twice_is_refused() -> None:
    lines = archive([RED_DOT])
    message = refusal(resealed([*lines[:4], lines[3], lines[4]]))
    assert message == f"line 5: blob {digest_of(RED_DOT)} is carried twice (first at line 4)"


def test_a_truncated_or_reordered_blob_is_refused() -> None:
    big = bytes(range(256)) * 400                      # three parts
    lines = archive([big])
    name = digest_of(big)
    assert refusal(resealed([*lines[:5], lines[6]])) == f"line 6: blob {name} stops after part 2 of 3 (line 4 on)"
    assert refusal(resealed([*lines[:4], lines[5], lines[4], lines[6]])) == \
        f"line 5: blob {name} stops after part 1 of 3 (line 4 on)"
    assert refusal(resealed([*lines[:3], lines[4], *lines[5:]])) == f"line 4: blob {name} starts at part 2, not 1"
    for cut in (sum(map(len, lines[:5])), sum(map(len, lines[:5])) + 1000):  # a whole part, or mid-line
        assert "truncated" in refusal(b"".join(lines)[:cut].splitlines(keepends=True))


def test_another_blob_before_one_is_finished_is_refused() -> None:
    big = bytes(range(256)) * 400
    lines = archive([big, RED_DOT])
    message = refusal(resealed([*lines[:5], lines[6], lines[5], lines[7]]))
    assert message == f"line 6: blob {digest_of(big)} stops after part 2 of 3 (line 4 on)"


def test_oversize_records_are_refused() -> None:
    lines = archive([RED_DOT])
    fields = record(lines[3])
    too_long = canonical({**fields, "data": b64url(bytes(BLOB_PART_BYTES + 1))}) + b"\n"
    assert refusal(resealed([*lines[:3], too_long, lines[4]])).startswith(
        f"line 4: blob {digest_of(RED_DOT)} part 1 of 1: holds {BLOB_PART_BYTES + 1} bytes")
    huge = canonical({**fields, "bytes": MAX_BLOB_BYTES + 1}) + b"\n"
    assert refusal(resealed([*lines[:3], huge, lines[4]])) == (
        f"line 4: blob {digest_of(RED_DOT)} is {MAX_BLOB_BYTES + 1} bytes, more than the "
        f"{MAX_BLOB_BYTES} an archive may carry")
    endless = canonical({**fields, "data": b64url(bytes(70_000))}) + b"\n"   # past the line limit
    assert "is longer than any archive record" in refusal(resealed([*lines[:3], endless, lines[4]]))


def test_malformed_blob_records_are_refused_by_line() -> None:
    lines = archive([RED_DOT])
    fields = record(lines[3])
    for broken in ({**fields, "part": 0}, {**fields, "bytes": True}, {**fields, "blob": STRANGER.upper()},
                   {**fields, "extra": 1}, {key: value for key, value in fields.items() if key != "part"},
                   {**fields, "data": str(fields["data"]) + "="}):
        message = refusal(resealed([*lines[:3], canonical(broken) + b"\n", lines[4]]))
        assert message.startswith("line 4: "), message
    not_json = lines[3].replace(b'"part":1}', b'"part":1')
    assert refusal(resealed([*lines[:3], not_json, lines[4]])) == \
        "line 4 is not valid JSON (after the blob records from line 4)"


def test_entries_come_before_the_blob_records() -> None:
    lines = archive([RED_DOT], avatar=digest_of(RED_DOT))
    moved = [lines[0], lines[1], lines[2], lines[4], lines[3], lines[5]]
    message = refusal(resealed(moved))
    assert message.startswith("line 5: expected a blob record or the trailer"), message


def version_1(lines: list[bytes]) -> list[bytes]:
    header = record(lines[0])
    return [canonical({**header, "v": 1}) + b"\n", *lines[1:]]


def test_a_version_1_archive_still_reads_and_carries_no_blobs() -> None:
    lines = [line for line in build_example().splitlines(keepends=True) if not line.startswith(b'{"blob":')]
    summary: ArchiveSummary = verify_lines(resealed(version_1(lines)), CREATED)
    assert (summary.version, summary.entries, summary.blobs, summary.blobs_named) == (1, 8, {}, 1)
    message = refusal(resealed(version_1(build_example().splitlines(keepends=True))))
    assert message.startswith("line 12: expected an entry or the trailer"), message


def test_the_example_carries_its_picture() -> None:
    summary = verify_lines(build_example().splitlines(keepends=True), CREATED)
    assert summary.blobs[digest_of(RED_DOT)].size == len(RED_DOT) == 69
