"""The archive document, its example file and the code agree."""

from __future__ import annotations

import hashlib
from pathlib import Path

from weft.core.archive import verify_lines
from weft.core.archive_example import CREATED, RED_DOT, build_example

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol"
EXAMPLE = DOCS / "vectors" / "archive-example.weft"


def test_the_committed_example_is_what_the_core_builds() -> None:
    assert EXAMPLE.read_bytes() == build_example()


def test_the_example_verifies_and_holds_what_the_document_says() -> None:
    summary = verify_lines(EXAMPLE.read_bytes().splitlines(keepends=True), CREATED)
    assert (len(summary.ops), summary.entries, summary.header_only) == (2, 8, 2)
    assert sorted(log.count for log in summary.logs.values()) == [3, 5]
    assert (summary.version, summary.blobs_named, summary.blob_bytes) == (2, 1, len(RED_DOT))
    assert list(summary.blobs) == [hashlib.sha256(RED_DOT).hexdigest()]
    assert summary.state.did in EXAMPLE.read_text().splitlines()[0]


def test_the_document_shows_the_example_file_verbatim() -> None:
    assert "```\n" + EXAMPLE.read_text() + "```\n" in (DOCS / "archive.md").read_text()
