"""Test vectors for foreign entries (docs/protocol/foreign-entries.md), built by the core.

``python -m weft.core.foreign_vectors OUTDIR`` writes ``foreign.json``; the committed copy
is in docs/protocol/vectors/ and tests/core/test_foreign.py checks that it is exactly what
this module builds. Pure and deterministic: fixed IRIs and timestamps, no randomness.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

from weft.core.foreign import decode_foreign, make_foreign
from weft.core.ids import entry_id_text
from weft.core.vectors import vectors_cli

__all__ = ["build_foreign_vectors", "main"]

ACTOR = "https://mastodon.example/users/alice"
TS = 1_700_000_000_000


def _valid(name: str, why: str, content: dict[str, Any], origin: str, **extra: Any) -> dict[str, Any]:
    entry, data = make_foreign(content, author=ACTOR, origin=origin, via=extra.pop("via", "signature"), ts=TS,
                               **extra)
    return {"name": name, "why": why, "header": entry.raw.decode(), "content": data.decode(),
            "id": entry_id_text(entry.id)}


def _invalid(name: str, why: str, header: dict[str, Any], code: str) -> dict[str, Any]:
    return {"name": name, "why": why, "header": orjson.dumps(header, option=orjson.OPT_SORT_KEYS).decode(),
            "expected_code": code}


def build_foreign_vectors() -> dict[str, Any]:
    post = {"type": "post", "text": "Hello from the Fediverse", "html": "<p>Hello from the Fediverse</p>",
            "url": "https://mastodon.example/@alice/1", "visibility": "public"}
    valid = [
        _valid("post", "a Note from a delivered Create, trusted by its HTTP signature", post,
               "https://mastodon.example/users/alice/statuses/1"),
        _valid("fetched-post", "the same kind of post, fetched from its origin", post,
               "https://mastodon.example/users/alice/statuses/2", via="fetch"),
        _valid("follow", "a Follow of a weft identity", {
            "type": "follow", "target": "did:weft:" + "a" * 48}, "https://mastodon.example/activities/f1"),
        _valid("expiring", "a post that carries an expiry", {"type": "post", "text": "soon gone"},
               "https://mastodon.example/users/alice/statuses/3", expires=TS + 60_000),
    ]
    good = orjson.loads(valid[0]["header"])

    def changed(**fields: Any) -> dict[str, Any]:
        header = dict(good)
        header.update(fields)
        return {key: value for key, value in header.items() if value is not None}

    invalid = [
        _invalid("missing-origin", "every foreign entry names where it came from", changed(origin=None), "malformed"),
        _invalid("author-not-iri", "the author is an http(s) actor IRI", changed(author="alice@example"),
                 "malformed"),
        _invalid("wrong-network", "only ActivityPub is known", changed(network="bluesky"), "malformed"),
        _invalid("bad-via", "trust is a verified signature or a fetch", changed(via="hearsay"), "malformed"),
        _invalid("expires-before-ts", "an expiry is after the entry's time", changed(expires=TS - 1), "malformed"),
        _invalid("oversize-content", "content_size over 64 KiB", changed(content_size=65_537), "oversize"),
    ]
    assert all(decode_foreign(item["header"].encode()) for item in valid)
    return {"actor": ACTOR, "valid": valid, "invalid": invalid,
            "note": "header bytes are canonical JSON; id = base32(sha256(header)); "
                    "content hashes to content_hash (b64url sha256)"}


def main(argv: list[str] | None = None) -> int:
    return vectors_cli(argv, "weft.core.foreign_vectors", lambda: {
        "foreign.json": orjson.dumps(build_foreign_vectors(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        + b"\n"})


if __name__ == "__main__":
    sys.exit(main())
