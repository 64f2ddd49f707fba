"""The committed protocol vectors are what the core builds, and the core agrees with every one.

Apart from the first test, these read the committed JSON files rather than
build_vectors(), so they check the vectors the documents show, the way an
implementation in another language would use them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from weft.core.encoding import (
    b32,
    b64url,
    canonical,
    decode_canonical,
    from_b32,
    from_b64url,
    sha256,
)
from weft.core.entry import Entry, Reason, signing_bytes, verify_entry
from weft.core.identity import (
    IdentityLog,
    IdentityState,
    check_device,
    decode_op,
    next_state,
)
from weft.core.ids import did_from_genesis, entry_id_text, parse_entry_id
from weft.core.keys import SigningKey, public_key_from_did_key
from weft.core.vectors import build_vectors, render
from weft.errors import EncodingError, EntryRejected, IdentityOpRejected, KeyFormatError

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "protocol" / "vectors"


def load(name: str) -> Any:
    return orjson.loads((VECTORS / f"{name}.json").read_bytes())


ENCODING, IDENTITY, ENTRIES = load("encoding"), load("identity"), load("entries")


def by_name(items: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(item, id=item["name"]) for item in items]


def test_committed_vectors_are_exactly_what_the_core_builds() -> None:
    built = render(build_vectors())
    # Other protocols (rpc.json, …) keep their vectors here too, each checked by its own test.
    assert set(built) <= {path.name for path in VECTORS.glob("*.json")}
    for name, data in built.items():
        assert (VECTORS / name).read_bytes() == data, (
            f"{name} is stale: run `python -m weft.core.vectors docs/protocol/vectors`")


def test_building_twice_gives_the_same_bytes() -> None:
    assert render(build_vectors()) == render(build_vectors())


# -- encoding ---------------------------------------------------------------


@pytest.mark.parametrize("vector", by_name(ENCODING["canonical"]))
def test_canonical_encoding(vector: dict[str, Any]) -> None:
    expected = bytes.fromhex(vector["canonical_hex"])
    assert expected.decode("utf-8") == vector["canonical"]
    assert canonical(vector["value"]) == expected
    assert decode_canonical(expected) == vector["value"]


@pytest.mark.parametrize("vector", by_name(ENCODING["rejected"]))
def test_non_canonical_bytes_are_rejected(vector: dict[str, Any]) -> None:
    with pytest.raises(EncodingError):
        decode_canonical(bytes.fromhex(vector["bytes_hex"]))


def test_base64url() -> None:
    for item in ENCODING["base64url"]["valid"]:
        assert b64url(bytes.fromhex(item["hex"])) == item["text"]
        assert from_b64url(item["text"]) == bytes.fromhex(item["hex"])
    for item in ENCODING["base64url"]["rejected"]:
        with pytest.raises(EncodingError):
            from_b64url(item["text"], item["length"])


def test_base32() -> None:
    for item in ENCODING["base32"]["valid"]:
        raw = bytes.fromhex(item["hex"])
        assert b32(raw) == item["text"]
        assert from_b32(item["text"], len(raw)) == raw
    for item in ENCODING["base32"]["rejected"]:
        with pytest.raises(EncodingError):
            from_b32(item["text"], item["length"])


def test_entry_ids() -> None:
    for item in ENCODING["entry_ids"]:
        digest = sha256(item["bytes_text"].encode())
        assert digest.hex() == item["sha256_hex"]
        assert entry_id_text(digest) == item["id"]
        assert parse_entry_id(item["id"]) == digest


def test_did_key() -> None:
    for item in ENCODING["did_key"]["valid"]:
        key = SigningKey(bytes.fromhex(item["seed_hex"]))
        assert key.public_key.hex() == item["public_key_hex"]
        assert key.did == item["did_key"]
        assert public_key_from_did_key(item["did_key"]) == key.public_key
    for item in ENCODING["did_key"]["rejected"]:
        with pytest.raises(KeyFormatError):
            public_key_from_did_key(item["text"])


# -- identity ---------------------------------------------------------------


def test_key_table_matches_the_seeds() -> None:
    for table in (IDENTITY["keys"], ENTRIES["keys"]):
        for item in table.values():
            key = SigningKey(bytes.fromhex(item["seed_hex"]))
            assert (key.did, key.public_key.hex()) == (item["did_key"], item["public_key_hex"])


def test_did_derivation() -> None:
    vector = IDENTITY["did_derivation"]
    digest = sha256(vector["genesis"].encode())
    assert digest.hex() == vector["sha256_hex"]
    assert digest[:30].hex() == vector["truncated_hex"]
    assert "did:weft:" + b32(digest[:30]) == vector["did"] == did_from_genesis(vector["genesis"].encode())


def test_identity_log_replays_to_the_documented_states() -> None:
    log = IdentityLog()
    for item in IDENTITY["log"]["ops"]:
        op = decode_op(item["op"].encode())
        assert op.id_text == item["id"]
        assert op.signer == item["signer"]
        result = log.accept(op, item["received_at"], now_ms=IDENTITY["log"]["now_ms"])
        assert result.appended and not result.superseded
        assert log.state.to_json() == item["state_after"]


def state_after(ops: list[str], now_ms: int) -> IdentityState | None:
    state = None
    for text in ops:
        state = next_state(state, decode_op(text.encode()), now_ms)
    return state


@pytest.mark.parametrize("vector", by_name(IDENTITY["invalid_ops"]))
def test_invalid_identity_op(vector: dict[str, Any]) -> None:
    state = state_after(vector["prior"], vector["now_ms"])
    with pytest.raises(IdentityOpRejected) as caught:
        next_state(state, decode_op(vector["op"].encode()), vector["now_ms"])
    assert caught.value.code == vector["expected_code"]
    assert vector["expected_code"] in str(caught.value)


@pytest.mark.parametrize("vector", by_name(IDENTITY["forks"]))
def test_identity_fork(vector: dict[str, Any]) -> None:
    log = IdentityLog()
    for held in vector["held"]:
        log.accept(decode_op(held["op"].encode()), held["received_at"], now_ms=held["received_at"])
    op = decode_op(vector["op"].encode())
    expected = vector["expected"]
    if "code" in expected:
        before = [held.op.id for held in log.ops]
        with pytest.raises(IdentityOpRejected) as caught:
            log.accept(op, vector["received_at"], now_ms=vector["now_ms"])
        assert caught.value.code == expected["code"]
        assert [held.op.id for held in log.ops] == before
        return
    result = log.accept(op, vector["received_at"], now_ms=vector["now_ms"])
    assert [held.op.id_text for held in result.superseded] == expected["superseded"]
    if expected["result"] == "duplicate":
        assert result.duplicate and not result.appended
    else:
        assert result.appended and log.ops[-1].op.id == op.id
        assert log.state.to_json() == expected["state_after"]


# -- entries ----------------------------------------------------------------


def identity_state(name: str | None, now_ms: int) -> IdentityState | None:
    """The state an entry is checked against: its author's identity log, as the vector names it."""
    return state_after(ENTRIES["identities"][name]["ops"], now_ms) if name is not None else None


def check(vector: dict[str, Any], header: str, content: str | None) -> Entry:
    head_id = parse_entry_id(vector["head_id"]) if vector["head_id"] else None
    entry = verify_entry(header.encode(), content.encode() if content is not None else None,
                         head_seq=vector["head_seq"], head_id=head_id, now_ms=vector["now_ms"])
    check_device(entry, identity_state(vector["identity"], vector["now_ms"]))
    return entry


def test_identities_for_the_entries() -> None:
    for name, item in ENTRIES["identities"].items():
        state = identity_state(name, ENTRIES["valid"][0]["now_ms"])
        assert state is not None
        assert state.did == item["did"] == did_from_genesis(item["ops"][0].encode())
        assert state.to_json() == item["state"]


@pytest.mark.parametrize("vector", by_name(ENTRIES["valid"]))
def test_valid_entry(vector: dict[str, Any]) -> None:
    entry = check(vector, vector["header"], vector["content"])
    assert entry.id_text == vector["id"]
    assert signing_bytes(entry).decode() == vector["signing_bytes"]
    assert b64url(entry.content_hash) == vector["content_hash"]
    assert entry.device == ENTRIES["keys"][vector["key"]]["did_key"]
    if vector["content"] is not None:
        assert sha256(vector["content"].encode()) == entry.content_hash


@pytest.mark.parametrize("vector", by_name(ENTRIES["invalid"]))
def test_invalid_entry(vector: dict[str, Any]) -> None:
    with pytest.raises(EntryRejected) as caught:
        check(vector, vector["header"], vector["content"])
    assert caught.value.code == vector["expected_code"]
    assert str(caught.value).startswith(vector["expected_code"] + ":")


def test_fork_evidence_pair() -> None:
    vector = ENTRIES["fork"]
    held = check(vector, vector["held"]["header"], None)
    offered = check(vector, vector["offered"]["header"], vector["offered"]["content"])
    assert (held.device, held.seq) == (offered.device, offered.seq)
    assert held.id != offered.id
    assert (held.id_text, offered.id_text) == (vector["held"]["id"], vector["offered"]["id"])
    assert vector["expected_code"] == "fork"


# -- the documents ----------------------------------------------------------

DOCS = VECTORS.parent


def all_strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(all_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(all_strings(v) for v in value)) if value else set()
    return set()


@pytest.mark.parametrize("doc", ["encoding", "entries", "identity"])
def test_each_document_points_to_its_vectors(doc: str) -> None:
    assert f"(vectors/{doc}.json)" in (DOCS / f"{doc}.md").read_text()


@pytest.mark.parametrize("doc", ["entries", "identity"])
def test_examples_in_the_documents_are_vectors(doc: str) -> None:
    """The JSON examples and the ids and DIDs quoted next to them are copied from the vectors."""
    text = (DOCS / f"{doc}.md").read_text()
    known = all_strings(IDENTITY) | all_strings(ENTRIES)
    blocks = [block.split("\n", 1)[1].strip() for block in text.split("```")[1::2]]
    examples = [block for block in blocks if block.startswith("{")]
    assert examples
    assert all(example in known for example in examples)
    quoted = re.findall(r"`((?:did:weft:)?[a-z2-7]{48,52})`", text)
    assert quoted
    assert all(name in known for name in quoted)


def test_entries_document_names_every_reason() -> None:
    text = (DOCS / "entries.md").read_text()
    assert all(f"| `{reason.value}` |" in text for reason in Reason)


def test_identity_document_names_every_code_the_vectors_expect() -> None:
    text = (DOCS / "identity.md").read_text()
    codes = {v["expected_code"] for v in IDENTITY["invalid_ops"]}
    codes |= {v["expected"]["code"] for v in IDENTITY["forks"] if "code" in v["expected"]}
    assert codes and all(f"`{code}`" in text for code in codes)
