"""The blob store: files named by their sha256, written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.errors import NotFound
from weft.media import BlobStore, MediaError

PICTURE = b"\x89PNG\r\n\x1a\n pretend these are the bytes of a picture"
DIGEST = hashlib.sha256(PICTURE).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "media")


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_put_then_get_gives_the_bytes_back_under_their_sha256(store: BlobStore) -> None:
    digest = store.put(PICTURE)

    assert digest == DIGEST
    assert store.get(digest) == PICTURE
    assert store.has(digest) and store.size(digest) == len(PICTURE)
    assert store.path(digest) == store.root / DIGEST[:2] / DIGEST[2:4] / DIGEST
    assert files_under(store.root) == [store.path(digest)]


def test_blob_files_are_readable_by_the_web_server(store: BlobStore) -> None:
    old_umask = os.umask(0o077)  # even under a strict umask
    try:
        path = store.path(store.put(PICTURE))
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_putting_the_same_bytes_again_changes_nothing(store: BlobStore) -> None:
    first = store.put(PICTURE)
    before = store.path(first).stat()

    assert store.put(PICTURE) == first
    after = store.path(first).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert files_under(store.root) == [store.path(first)]


def test_put_repairs_a_blob_file_of_the_wrong_length(store: BlobStore) -> None:
    path = store.path(store.put(PICTURE))
    path.write_bytes(PICTURE[:10])  # a damaged copy

    store.put(PICTURE)

    assert store.get(DIGEST) == PICTURE


def test_empty_and_distinct_blobs_live_side_by_side(store: BlobStore) -> None:
    digests = {store.put(data) for data in (b"", b"a", b"b", PICTURE)}

    assert len(digests) == 4
    assert store.get(hashlib.sha256(b"").hexdigest()) == b""
    assert len(files_under(store.root)) == 4


@pytest.mark.parametrize("bad", [
    "../../etc/passwd",
    DIGEST.upper(),
    DIGEST[:63],
    DIGEST + "0",
    DIGEST + "\n",
    DIGEST[:62] + "/x",
    "g" * 64,
    "",
])
def test_malformed_digests_are_refused_by_every_method(store: BlobStore, bad: str) -> None:
    store.put(PICTURE)
    for method in (store.path, store.get, store.has, store.size, store.delete):
        with pytest.raises(MediaError, match="not a blob digest"):
            method(bad)


@given(st.text(max_size=80))
def test_only_64_lowercase_hex_digits_name_a_blob(name: str) -> None:
    store = BlobStore(Path("/srv/weft/media"))
    is_digest = len(name) == 64 and all(char in "0123456789abcdef" for char in name)
    if is_digest:
        assert store.path(name).parent.parent.parent == store.root
    else:
        with pytest.raises(MediaError):
            store.path(name)


def test_a_missing_blob_is_not_found(store: BlobStore) -> None:
    assert not store.has(DIGEST)
    with pytest.raises(NotFound, match=DIGEST):
        store.get(DIGEST)
    with pytest.raises(NotFound):
        store.size(DIGEST)
    assert store.delete(DIGEST) is False


def test_delete_removes_the_blob_and_only_it(store: BlobStore) -> None:
    other = store.put(b"another picture")
    store.put(PICTURE)

    assert store.delete(DIGEST) is True
    assert not store.has(DIGEST)
    with pytest.raises(NotFound):
        store.get(DIGEST)
    assert store.delete(DIGEST) is False
    assert store.get(other) == b"another picture"


def test_a_temporary_file_left_by_a_crash_is_never_taken_for_the_blob(store: BlobStore) -> None:
    # What a process killed mid-put leaves: half the bytes, under a temporary name, in the
    # blob's own directory.
    shard = store.path(DIGEST).parent
    shard.mkdir(parents=True)
    leftover = shard / ".tmp-k2j4h1"
    leftover.write_bytes(PICTURE[: len(PICTURE) // 2])

    assert not store.has(DIGEST)
    with pytest.raises(NotFound):
        store.get(DIGEST)

    assert store.put(PICTURE) == DIGEST
    assert store.get(DIGEST) == PICTURE
    assert leftover.read_bytes() == PICTURE[: len(PICTURE) // 2]  # not mistaken, not touched


def test_a_failed_write_leaves_neither_the_blob_nor_a_temporary_file(
        store: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)  # the disk fails mid-put
    with pytest.raises(OSError, match="Input/output error"):
        store.put(PICTURE)
    monkeypatch.undo()

    assert not store.has(DIGEST)
    assert files_under(store.root) == []
    assert store.put(PICTURE) == DIGEST and store.get(DIGEST) == PICTURE
