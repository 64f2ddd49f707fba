"""The parts of the media sweep that need no node: listing the store, reading which blobs
content names, and the compact set of digests in use."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from weft.media import BlobStore
from weft.media.upkeep import _Digests
from weft.store.blob_refs import blobs_named

hexdigests = st.binary(min_size=1, max_size=64).map(lambda data: hashlib.sha256(data).hexdigest())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80) | hexdigests,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "attachments", "blob", "thumb", "avatar", "header", "text"]) | st.text(max_size=8),
        inner, max_size=5),
    max_leaves=20)


def test_scan_finds_blobs_and_temporaries_and_passes_over_the_rest(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "media")
    digest = store.put(b"a picture")
    shard = store.path(digest).parent
    temporary = shard / ".tmp-x1y2"
    temporary.write_bytes(b"half")
    misplaced = shard / ("f" * 64)          # a digest name in another digest's shard
    misplaced.write_bytes(b"x")
    (shard / "notes.txt").write_text("someone's file")
    (store.root / ".swept").touch()
    (store.root / "zz").mkdir()
    (store.root / "zz" / ("0" * 64)).write_bytes(b"not in a shard")
    (shard / ("e" * 64)).mkdir()           # a directory, not a file

    found = {(item.path, item.digest) for item in store.scan()}

    assert found == {(store.path(digest), digest), (temporary, None)}


def test_scan_of_a_store_never_written_finds_nothing(tmp_path: Path) -> None:
    assert list(BlobStore(tmp_path / "media").scan()) == []


def test_a_posts_attachments_and_a_profiles_images_are_named() -> None:
    image, thumb, avatar, header = (hashlib.sha256(bytes([n])).hexdigest() for n in range(4))
    post = {"type": "post", "text": "hi", "attachments": [{"blob": image, "thumb": thumb, "mime": "image/jpeg"}]}
    assert blobs_named(post) == {image, thumb}
    assert blobs_named({"type": "post", "attachments": [image]}) == {image}   # the older form: digests alone
    profile = {"type": "profile", "avatar": f"https://social.example/media/{avatar}",
               "header": f"http://127.0.0.1:8080/media/{header}"}
    assert blobs_named(profile) == {avatar, header}


def test_names_that_are_no_digest_are_never_taken() -> None:
    for hostile in ("../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "", None, 7):
        assert blobs_named({"type": "post", "attachments": [{"blob": hostile, "thumb": hostile}]}) == set()
    assert blobs_named({"type": "profile", "avatar": "https://x/media/" + "0" * 65}) == set()
    assert blobs_named({"type": "like", "attachments": [{"blob": "0" * 64}]}) == set()


@given(json_values)
def test_whatever_content_says_only_digests_come_out(content: Any) -> None:
    found = blobs_named(content)
    assert all(len(digest) == 64 and set(digest) <= set("0123456789abcdef") for digest in found)


@given(st.lists(hexdigests, max_size=60), st.lists(hexdigests, max_size=20))
def test_the_compact_set_holds_what_was_added_and_nothing_else(added: list[str], others: list[str]) -> None:
    used = _Digests()
    used.update(added)
    used.seal()
    assert all(digest in used for digest in added)
    prefixes = {digest[:16] for digest in added}
    assert not any(digest in used for digest in others if digest[:16] not in prefixes)
