"""The archive format itself: records are canonical JSON, and the reader's rules, without a node."""

from __future__ import annotations

import orjson
import pytest

from weft.core.archive import ArchiveWriter, entry_parts, verify_lines
from weft.core.archive_example import CREATED, build_example
from weft.core.encoding import b64url, canonical, sha256
from weft.errors import ArchiveError

EXAMPLE = build_example()
LINES = EXAMPLE.splitlines(keepends=True)


def rewrite(lines: list[bytes]) -> list[bytes]:
    """The same records with the header counts and trailer recomputed: only the rule under test breaks."""
    header = orjson.loads(lines[0])
    body = lines[1:-1]
    header["ops"] = sum(line.startswith(b'{"op":') for line in body)
    header["entries"] = sum(line.startswith(b'{"content":') for line in body)
    first = canonical(header) + b"\n"
    digest = sha256(first + b"".join(body))
    return [first, *body, canonical({"end": "weft", "sha256": b64url(digest)}) + b"\n"]


def refusal(lines: list[bytes]) -> str:
    with pytest.raises(ArchiveError) as caught:
        verify_lines(lines, CREATED)
    return str(caught.value)


def test_every_line_is_the_canonical_json_of_its_record() -> None:
    for line in LINES:
        assert canonical(orjson.loads(line)) + b"\n" == line


def test_an_entry_line_cuts_into_the_signed_header_and_the_content() -> None:
    parts = entry_parts(LINES[3])
    assert parts is not None
    header, content = parts
    record = orjson.loads(LINES[3])
    assert (header, content) == (canonical(record["entry"]), canonical(record["content"]))
    assert entry_parts(LINES[1]) is None


def test_the_writer_refuses_to_end_with_counts_other_than_announced() -> None:
    writer = ArchiveWriter("did:weft:" + "a" * 48, 0, 1, 0)
    writer.start()
    with pytest.raises(ArchiveError, match="announced 1 operations and 0 entries but 0 and 0 were written"):
        writer.end()


def test_a_later_version_is_refused_by_name() -> None:
    header = orjson.loads(LINES[0])
    header["v"] = 3
    message = refusal(rewrite([canonical(header) + b"\n", *LINES[1:]]))
    assert message == "line 1: archive version 3 is not supported (this node reads 1 and 2)"


def test_a_device_log_split_in_two_runs_is_refused() -> None:
    body = LINES[3:-2]  # the entries (the blob record and the trailer follow)
    devices = [orjson.loads(line)["entry"]["device"] for line in body]
    first_run = devices.count(devices[0])
    moved = [*LINES[:3], body[0], *body[first_run:first_run + 1], *body[1:first_run], *body[first_run + 1:],
             *LINES[-2:]]
    message = refusal(rewrite(moved))
    assert message.startswith("line 6: entry ") and "this device's log already ended at line 4" in message


def test_an_entry_before_any_operation_is_refused() -> None:
    message = refusal(rewrite([LINES[0], LINES[3], *LINES[1:3], *LINES[4:]]))
    assert message == "line 2: an entry comes before any identity operation"


def test_entries_of_a_device_the_identity_does_not_know_are_refused() -> None:
    """Without the operation that added the phone, the phone's entries have no authority."""
    message = refusal(rewrite([LINES[0], LINES[1], *LINES[3:]]))
    assert "device is not authorized by" in message and message.endswith("(unauthorized_device)")
