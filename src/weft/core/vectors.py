"""Test vectors for the protocol documents, generated from the core itself.

``build_vectors()`` is pure and deterministic: fixed seeds (``bytes([n]) * 32``),
fixed timestamps, no clock and no randomness (Ed25519 signatures are
deterministic). ``python -m weft.core.vectors OUTDIR`` writes ``encoding.json``,
``identity.json`` and ``entries.json``; the committed copies live in
``docs/protocol/vectors/`` and ``tests/core/test_vectors.py`` checks that they
are exactly what this module builds, so the documents cannot drift from the code.

Bytes that are signed or hashed are given as text (they are UTF-8 JSON), raw
binary as lower-case hex. Every invalid vector names the one rule it breaks:
its inputs are otherwise valid, so an implementation that reports a different
code checks its rules in a different order or not at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import base58
import orjson

from weft.core.content import MAX_CONTENT_BYTES, encode_content
from weft.core.encoding import MAX_DEPTH, MAX_SAFE_INT, b32, b64url, canonical, sha256
from weft.core.entry import MAX_FUTURE_SKEW_MS, MAX_HEADER_BYTES, Entry, sign_entry, signing_bytes
from weft.core.identity import (
    RECOVERY_WINDOW_MS,
    IdentityOp,
    IdentityState,
    decode_op,
    next_state,
    sign_op,
)
from weft.core.ids import DID_HASH_BYTES, did_from_genesis
from weft.core.keys import SigningKey

__all__ = ["build_vectors", "main", "render"]

T0: Final = 1_700_000_000_000  # 2023-11-14T22:13:20Z
HOUR: Final = 3_600_000
DAY: Final = 24 * HOUR
NOW: Final = T0 + 10 * DAY
_SORTED: Final = orjson.OPT_SORT_KEYS

# name -> (seed byte, what the key is for)
_KEYS: Final = {
    "alice_recovery": (1, "alice's rank-0 rotation key, kept by the user"),
    "alice_server": (2, "alice's rank-1 rotation key, held by her home server"),
    "alice_laptop": (3, "alice's laptop device key"),
    "alice_phone": (4, "alice's phone device key, revoked after seq 2"),
    "alice_server_new": (5, "the rank-1 key that replaces alice_server in the rotation"),
    "mallory": (6, "a key that alice never authorized"),
    "bob_rotation": (7, "bob's only rotation key"),
    "bob_device": (8, "bob's device key"),
    "alice_tablet": (9, "a device that a superseded operation adds"),
}
KEYS: Final = {name: SigningKey(bytes([seed]) * 32) for name, (seed, _) in _KEYS.items()}


def _keys_table() -> dict[str, Any]:
    return {name: {"seed_hex": KEYS[name].seed.hex(), "public_key_hex": KEYS[name].public_key.hex(),
                   "did_key": KEYS[name].did, "role": role} for name, (_, role) in _KEYS.items()}


def _text(data: bytes) -> str:
    return data.decode("utf-8")


def _sign_raw(key: SigningKey, body: dict[str, Any]) -> bytes:
    """Sign ``body`` as the protocol does, without the core's refusals (for invalid vectors)."""
    signature = key.sign(orjson.dumps(body, option=_SORTED))
    return orjson.dumps({**body, "sig": b64url(signature)}, option=_SORTED)


# -- encoding ---------------------------------------------------------------


def _encoding() -> dict[str, Any]:
    values: list[tuple[str, str, dict[str, Any]]] = [
        ("sorted_keys", "keys sorted by their UTF-8 bytes (= by code point), not by UTF-16 units",
         {"z": 1, "Z": 2, "é": 3, "\uffff": 4, "\U0001f600": 5, "": 6, "a": {"y": [], "b": {}}}),
        ("scalars", "integers at the edge of the range, booleans, null",
         {"max": MAX_SAFE_INT, "min": -MAX_SAFE_INT, "zero": 0, "t": True, "f": False, "n": None}),
        ("escapes", "only the quote, the backslash and U+0000..U+001F are escaped; short forms "
         "where JSON has them, else \\u00XX in lower-case hex; DEL, U+2028 and '/' are raw",
         {"s": "\"\\/\b\f\n\r\t\x00\x01\x1f\x7f\u2028"}),
        ("utf8", "non-ASCII text is raw UTF-8, in NFC", {"text": "café 😀 ひらがな"}),
        ("nesting", "arrays and objects inside each other", {"a": [[1, [2]], {"b": [None]}]}),
        ("max_depth", f"objects and arrays may nest {MAX_DEPTH} deep (the top object is depth 1)",
         {"a": _nested(MAX_DEPTH - 1)}),
    ]
    canonical_vectors = [
        {"name": name, "description": why, "value": value, "canonical": _text(canonical(value)),
         "canonical_hex": canonical(value).hex()}
        for name, why, value in values
    ]
    rejected = [
        ("unsorted_keys", b'{"b":1,"a":2}', "keys are not in sorted order"),
        ("whitespace", b'{"a": 1}', "insignificant whitespace"),
        ("trailing_newline", b'{"a":1}\n', "insignificant whitespace after the value"),
        ("non_nfc_string", '{"a":"cafe\u0301"}'.encode(), "string is not in Unicode NFC"),
        ("non_nfc_key", '{"e\u0301":1}'.encode(), "key is not in Unicode NFC"),
        ("float", b'{"a":1.0}', "floats are not allowed, even integral ones"),
        ("exponent", b'{"a":1e2}', "exponent notation is a float"),
        ("negative_zero", b'{"a":-0}', "-0 is not the canonical form of 0"),
        ("integer_too_large", b'{"a":9007199254740992}', "integers must lie within ±(2^53-1)"),
        ("integer_too_small", b'{"a":-9007199254740992}', "integers must lie within ±(2^53-1)"),
        ("duplicate_key", b'{"a":1,"a":1}', "a key appears twice"),
        ("needless_escape", b'{"a":"\\u0041"}', "a character escaped that is written raw"),
        ("escaped_slash", b'{"a":"\\/"}', "'/' is written raw"),
        ("upper_case_hex_escape", b'{"a":"\\u001F"}', "\\u escapes use lower-case hex"),
        ("long_escape", b'{"a":"\\u000a"}', "U+000A has the short escape \\n"),
        ("top_level_array", b"[1]", "the top level must be an object"),
        ("invalid_utf8", b'{"a":"\xff"}', "bytes that are not UTF-8"),
        ("lone_surrogate", b'{"a":"\\ud800"}', "a surrogate code point is not a character"),
        ("byte_order_mark", b'\xef\xbb\xbf{"a":1}', "a byte order mark"),
        ("too_deep", b'{"a":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
         f"objects and arrays nest more than {MAX_DEPTH} deep"),
    ]
    rejected_vectors = [
        {"name": name, "reason": reason, "bytes_hex": data.hex(),
         **({"text": data.decode("utf-8")} if _is_utf8(data) else {})}
        for name, data, reason in rejected
    ]
    blobs = [b"", b"\x00", b"\xff", b"\x00\x01", b"weft", b"\xfb\xff\xbf", bytes(range(32))]
    return {
        "canonical": canonical_vectors,
        "rejected": rejected_vectors,
        "base64url": {
            "valid": [{"hex": blob.hex(), "text": b64url(blob)} for blob in blobs],
            "rejected": [
                {"text": "AA==", "length": 1, "reason": "padding"},
                {"text": "AB", "length": 1, "reason": "non-zero bits after the last byte"},
                {"text": "+/8", "length": None, "reason": "standard base64 alphabet"},
                {"text": "A", "length": None, "reason": "impossible length"},
                {"text": "AAA", "length": 1, "reason": "wrong length: 2 bytes where 1 is expected"},
            ],
        },
        "base32": {
            "valid": [{"hex": blob.hex(), "text": b32(blob)} for blob in blobs if blob],
            "rejected": [
                {"text": "ab", "length": 1, "reason": "non-zero bits after the last byte"},
                {"text": "AA", "length": 1, "reason": "upper case"},
                {"text": "aa======", "length": 1, "reason": "padding"},
                {"text": "a8", "length": 1, "reason": "not in the alphabet"},
                {"text": "aaa", "length": 1, "reason": "wrong length"},
            ],
        },
        "entry_ids": [
            {"bytes_text": text, "sha256_hex": sha256(text.encode()).hex(), "id": b32(sha256(text.encode()))}
            for text in ('{"a":1}', "")
        ],
        "did_key": {
            "valid": [{"seed_hex": KEYS[name].seed.hex(), "public_key_hex": KEYS[name].public_key.hex(),
                       "did_key": KEYS[name].did} for name in ("alice_recovery", "alice_laptop")],
            "rejected": [
                {"text": "did:key:" + KEYS["alice_laptop"].did[9:], "reason": "missing the multibase 'z' prefix"},
                {"text": KEYS["alice_laptop"].did[:-1] + "0", "reason": "'0' is not in the base58btc alphabet"},
                {"text": KEYS["alice_laptop"].did[:-2], "reason": "too short for 0xed 0x01 and 32 key bytes"},
                {"text": "did:key:z" + base58.b58encode(b"\xec\x01" + KEYS["alice_laptop"].public_key).decode(),
                 "reason": "multicodec 0xec (X25519), not 0xed (Ed25519)"},
                {"text": "did:key:z1" + KEYS["alice_laptop"].did[9:],
                 "reason": "a leading zero byte (base58btc '1') before the multicodec prefix"},
            ],
        },
    }


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# -- identity ---------------------------------------------------------------


def _device(name: str, added: int) -> dict[str, Any]:
    return {"name": name, "added": added}


class _Alice:
    """Alice's identity log (the main line) and the operations the scenarios fork from it."""

    def __init__(self) -> None:
        r, s, laptop, phone = (KEYS[n].did for n in ("alice_recovery", "alice_server", "alice_laptop",
                                                  "alice_phone"))
        self.keys = [r, s]
        self.laptop = {laptop: _device("laptop", T0)}
        self.phone = {phone: _device("phone", T0 + HOUR)}
        self.handles = ["alice@example.org"]
        self.services = {"activitypub": "https://example.org/users/alice", "home": "https://example.org"}
        self.genesis = sign_op(KEYS["alice_server"], prev=None, ts=T0, rotation_keys=self.keys,
                               devices=self.laptop, handles=self.handles, services=self.services)
        self.add_phone = self.amend(self.genesis, "alice_server", T0 + HOUR,
                                    devices={**self.laptop, **self.phone})
        self.revoke_phone = self.amend(self.add_phone, "alice_server", T0 + 2 * HOUR,
                                       devices=self.laptop, revoked={phone: 2})
        self.rotate = self.amend(self.revoke_phone, "alice_server", T0 + 3 * HOUR,
                                 rotation_keys=[r, KEYS["alice_server_new"].did],
                                 devices=self.laptop, revoked={phone: 2})
        self.line = [self.genesis, self.add_phone, self.revoke_phone, self.rotate]
        self.did = did_from_genesis(self.genesis.raw)

    def amend(self, prev: IdentityOp, signer: str, ts: int, **changes: Any) -> IdentityOp:
        body: dict[str, Any] = {"rotation_keys": self.keys, "devices": self.laptop, "revoked": {},
                                "handles": self.handles, "services": self.services, **changes}
        return sign_op(KEYS[signer], prev=prev.id, ts=ts, **body)

    def body(self, prev: IdentityOp | None, signer: str, ts: int, **changes: Any) -> dict[str, Any]:
        """An unsigned operation body, for vectors the core's sign_op would refuse to make."""
        return {"v": 1, "prev": prev.id_text if prev else None, "ts": ts, "rotation_keys": self.keys,
                "devices": self.laptop, "revoked": {}, "handles": self.handles,
                "services": self.services, "signer": KEYS[signer].did, **changes}


def _states(ops: list[IdentityOp], now: int = NOW) -> list[IdentityState]:
    states: list[IdentityState] = []
    for op in ops:
        states.append(next_state(states[-1] if states else None, op, now))
    return states


def _identity(alice: _Alice) -> dict[str, Any]:
    states = _states(alice.line)
    described = [
        ("genesis", "self-signed by alice_server (rank 1); one device, one handle, two services"),
        ("add_device", "alice_server adds the phone"),
        ("revoke_device", "alice_server revokes the phone after its seq 2"),
        ("rotate", "alice_server hands its rank to alice_server_new"),
    ]
    log = [{"name": name, "description": why, "op": _text(op.raw), "id": op.id_text, "signer": op.signer,
            "received_at": op.ts + 1000, "state_after": state.to_json()}
           for (name, why), op, state in zip(described, alice.line, states, strict=True)]
    digest = sha256(alice.genesis.raw)
    return {
        "keys": _keys_table(),
        "constants": {"recovery_window_ms": RECOVERY_WINDOW_MS, "max_future_skew_ms": MAX_FUTURE_SKEW_MS,
                      "did_hash_bytes": DID_HASH_BYTES},
        "did_derivation": {"genesis": _text(alice.genesis.raw), "sha256_hex": digest.hex(),
                           "truncated_hex": digest[:DID_HASH_BYTES].hex(), "did": alice.did},
        "log": {"now_ms": NOW, "ops": log},
        "invalid_ops": _invalid_ops(alice),
        "forks": _forks(alice),
    }


def _invalid_ops(a: _Alice) -> list[dict[str, Any]]:
    g, add, revoke = a.genesis, a.add_phone, a.revoke_phone
    laptop, phone, mallory = KEYS["alice_laptop"].did, KEYS["alice_phone"].did, KEYS["mallory"].did
    forged = orjson.loads(add.raw)
    forged["sig"] = b64url(KEYS["alice_server"].sign(b"something else"))
    spaced = g.raw.replace(b'"devices":', b'"devices": ', 1)
    cases: list[tuple[str, str, list[IdentityOp], bytes, int, str]] = [
        ("malformed_extra_field", "a field the format does not have", [],
         _sign_raw(KEYS["alice_server"], {**a.body(None, "alice_server", T0), "note": "hi"}), NOW, "malformed"),
        ("malformed_not_canonical", "a space after a colon", [], spaced, NOW, "malformed"),
        ("malformed_authorized_and_revoked", "one key both in devices and in revoked", [g],
         _sign_raw(KEYS["alice_server"], a.body(g, "alice_server", T0 + HOUR, devices={**a.laptop, **a.phone},
                                             revoked={phone: 0})), NOW, "malformed"),
        ("malformed_genesis_revokes", "a genesis cannot revoke devices", [],
         sign_op(KEYS["alice_server"], prev=None, ts=T0, rotation_keys=a.keys, devices={},
                 revoked={laptop: 0}).raw, NOW, "malformed"),
        ("oversize", "more than 16 KiB", [],
         _sign_raw(KEYS["alice_server"], a.body(None, "alice_server", T0, services={
             f"s{i}": "https://example.org/" + "x" * 1500 for i in range(12)})), NOW, "oversize"),
        ("bad_signature", "the signature is alice_server's, but of other bytes", [g],
         orjson.dumps(forged, option=_SORTED), NOW, "bad_signature"),
        ("not_genesis", "the first operation names a prev", [], add.raw, NOW, "not_genesis"),
        ("unauthorized_signer_genesis", "a genesis signed by a key it does not list", [],
         sign_op(KEYS["mallory"], prev=None, ts=T0, rotation_keys=a.keys, devices=a.laptop).raw, NOW,
         "unauthorized_signer"),
        ("unauthorized_signer", "signed by a key that is not a rotation key of the state before", [g],
         a.amend(g, "mallory", T0 + HOUR).raw, NOW, "unauthorized_signer"),
        ("broken_chain", "prev is not the head of the state it is checked against", [g, add],
         a.amend(g, "alice_server", T0 + 2 * HOUR, devices={**a.laptop, **a.phone}).raw, NOW, "broken_chain"),
        ("time_order", "dated before the operation it follows", [g, add],
         a.amend(add, "alice_server", T0 + HOUR - 1, devices={**a.laptop, **a.phone}).raw, NOW, "time_order"),
        ("dropped_device", "the phone disappears without being revoked", [g, add],
         a.amend(add, "alice_server", T0 + 2 * HOUR).raw, NOW, "dropped_device"),
        ("revoked_device", "the revoked phone is authorized again", [g, add, revoke],
         a.amend(revoke, "alice_server", T0 + 3 * HOUR, devices={**a.laptop, **a.phone}).raw, NOW,
         "revoked_device"),
        ("revocation_lifted", "the phone's revocation is dropped", [g, add, revoke],
         a.amend(revoke, "alice_server", T0 + 3 * HOUR).raw, NOW, "revocation_changed"),
        ("revocation_extended", "the phone's last seq is raised from 2 to 5", [g, add, revoke],
         a.amend(revoke, "alice_server", T0 + 3 * HOUR, revoked={phone: 5}).raw, NOW, "revocation_changed"),
        ("unknown_device", "revokes a key that was never a device (it would vouch for its seq 1..3)", [g],
         a.amend(g, "alice_server", T0 + HOUR, revoked={mallory: 3}).raw, NOW, "unknown_device"),
        ("future_timestamp", "dated more than 10 minutes after now_ms", [g],
         a.amend(g, "alice_server", NOW + MAX_FUTURE_SKEW_MS + 1).raw, NOW, "future_timestamp"),
    ]
    return [{"name": name, "description": why, "prior": [_text(op.raw) for op in prior], "op": _text(raw),
             "now_ms": now, "expected_code": code} for name, why, prior, raw, now, code in cases]


def _forks(a: _Alice) -> list[dict[str, Any]]:
    g = a.genesis
    tablet = {KEYS["alice_tablet"].did: _device("tablet", T0 + HOUR)}
    held_at = T0 + HOUR
    # The server key (rank 1) adds a tablet; the recovery key (rank 0) answers from the genesis.
    sibling = a.amend(g, "alice_server", T0 + HOUR, devices={**a.laptop, **tablet})
    follow_up = a.amend(sibling, "alice_server", T0 + 2 * HOUR, devices={**a.laptop, **tablet},
                        handles=["alice@evil.example"])
    recovery = a.amend(g, "alice_recovery", T0 + 5 * HOUR,
                       rotation_keys=[KEYS["alice_recovery"].did, KEYS["alice_server_new"].did])
    backdated = a.amend(g, "alice_server", T0 + 1, devices={**a.laptop, **tablet})
    late = T0 + 30 * DAY
    late_recovery = a.amend(g, "alice_recovery", late,
                            rotation_keys=[KEYS["alice_recovery"].did, KEYS["alice_server_new"].did])
    by_recovery = a.amend(g, "alice_recovery", T0 + HOUR, devices={**a.laptop, **tablet})
    other_server = a.amend(g, "alice_server", T0 + 2 * HOUR, handles=["alice@example.net"])
    forged = orjson.loads(recovery.raw)
    forged["sig"] = b64url(KEYS["alice_recovery"].sign(b"not this operation"))
    forged_raw = orjson.dumps(forged, option=_SORTED)
    stranger = a.amend(g, "mallory", T0 + 2 * HOUR)
    other_genesis = sign_op(KEYS["alice_server"], prev=None, ts=T0 + 1, rotation_keys=a.keys, devices=a.laptop)
    orphan_parent = a.amend(g, "alice_server", T0 + 3 * HOUR, handles=["never@seen.example"])
    orphan = a.amend(orphan_parent, "alice_server", T0 + 4 * HOUR)

    window = RECOVERY_WINDOW_MS
    base = [(g, T0 + 1000)]
    scenarios: list[tuple[str, str, list[tuple[IdentityOp, int]], bytes, int, dict[str, Any]]] = [
        ("recovery_within_window", "rank 0 replaces a rank-1 operation held for 71 h",
         [*base, (sibling, held_at)], recovery.raw, held_at + 71 * HOUR,
         {"result": "appended", "superseded": [sibling.id_text]}),
        ("recovery_just_within_window", "held for 72 h less 1 ms: still open",
         [*base, (sibling, held_at)], recovery.raw, held_at + window - 1,
         {"result": "appended", "superseded": [sibling.id_text]}),
        ("recovery_window_closed", "held for exactly 72 h: history is fixed",
         [*base, (sibling, held_at)], recovery.raw, held_at + window, {"code": "recovery_window_closed"}),
        ("recovery_supersedes_descendants", "the replaced operation and everything after it go",
         [*base, (sibling, held_at), (follow_up, held_at + HOUR)], recovery.raw, held_at + 10 * HOUR,
         {"result": "appended", "superseded": [sibling.id_text, follow_up.id_text]}),
        ("backdated_sibling", "the sibling claims a ts 1 ms after genesis but this node first held it "
         "30 days later; the window runs from receipt, so recovery an hour after that still wins",
         [*base, (backdated, late)], late_recovery.raw, late + HOUR,
         {"result": "appended", "superseded": [backdated.id_text]}),
        ("fork_equal_rank", "the same key (equal rank) cannot replace its own operation",
         [*base, (sibling, held_at)], other_server.raw, held_at + HOUR, {"code": "fork_rejected"}),
        ("fork_lower_rank", "rank 1 cannot replace a rank-0 operation, even at once",
         [*base, (by_recovery, held_at)], other_server.raw, held_at + 1, {"code": "fork_rejected"}),
        ("fork_unauthorized", "a key that is not a rotation key at the fork point",
         [*base, (sibling, held_at)], stranger.raw, held_at + HOUR, {"code": "unauthorized_signer"}),
        ("fork_forged", "a recovery-key operation whose signature does not verify is refused for that, "
         "not judged by the fork rule", [*base, (sibling, held_at)], forged_raw, held_at + window,
         {"code": "bad_signature"}),
        ("second_genesis", "a different genesis is a different identity", base, other_genesis.raw,
         T0 + HOUR, {"code": "wrong_identity"}),
        ("unknown_prev", "follows an operation this node does not hold", base, orphan.raw, T0 + 5 * HOUR,
         {"code": "unknown_prev"}),
        ("duplicate", "an operation already held is a no-op", [*base, (sibling, held_at)], sibling.raw,
         held_at + HOUR, {"result": "duplicate", "superseded": []}),
    ]
    out = []
    for name, why, held, raw, received, expected in scenarios:
        if expected.get("result") == "appended":
            kept = [op for op, _ in held if op.id_text not in expected["superseded"]]
            state = _states([*kept, decode_op(raw)], received)[-1]
            expected = {**expected, "state_after": state.to_json()}
        out.append({"name": name, "description": why,
                    "held": [{"op": _text(op.raw), "id": op.id_text, "received_at": at} for op, at in held],
                    "op": _text(raw), "received_at": received, "now_ms": received, "expected": expected})
    return out


# -- entries ----------------------------------------------------------------


def _bob() -> IdentityOp:
    return sign_op(KEYS["bob_rotation"], prev=None, ts=T0, rotation_keys=[KEYS["bob_rotation"].did],
                   devices={KEYS["bob_device"].did: _device("desktop", T0)}, handles=["bob@example.net"])


def _entry_json(name: str, why: str, entry: Entry, content: bytes | None, head: tuple[int, str | None],
                key: str, identity: str | None) -> dict[str, Any]:
    return {"name": name, "description": why, "key": key, "identity": identity,
            "header": _text(entry.raw), "signing_bytes": _text(signing_bytes(entry)), "id": entry.id_text,
            "content": _text(content) if content is not None else None,
            "content_hash": b64url(entry.content_hash), "head_seq": head[0], "head_id": head[1],
            "now_ms": NOW}


def _entries(alice: _Alice) -> dict[str, Any]:
    bob = _bob()
    bob_did = did_from_genesis(bob.raw)
    valid: list[dict[str, Any]] = []
    laptop: list[Entry] = []

    def add(name: str, why: str, content: dict[str, Any], *, absent: bool = False,
            expires: int | None = None, ts: int | None = None) -> Entry:
        data = encode_content(content)
        prev = laptop[-1] if laptop else None
        entry = sign_entry(KEYS["alice_laptop"], author=alice.did, seq=len(laptop) + 1,
                           prev=prev.id if prev else None, ts=ts or T0 + 4 * HOUR + len(laptop) * 60_000,
                           content=data, expires=expires)
        head = (prev.seq, prev.id_text) if prev else (0, None)
        valid.append(_entry_json(name, why, entry, None if absent else data, head, "alice_laptop", "alice"))
        laptop.append(entry)
        return entry

    add("profile", "the first entry of a log: seq 1, prev null",
        {"type": "profile", "name": "Alice", "bio": "Knits.", "fields": [["site", "https://example.org"]],
         "locked": False, "bot": False})
    hello = add("post", "a plain post", {"type": "post", "text": "Hello, weft!"})
    reply = add("post_reply", "every optional post field",
                {"type": "post", "text": "Replying to myself, @bob", "reply_to": hello.id_text, "root": hello.id_text,
                 "mentions": [bob_did], "tags": ["weft", "hello"], "visibility": "unlisted",
                 "summary": "a reply", "sensitive": True, "lang": "en", "board": "general",
                 "attachments": [b64url(sha256(b"a picture"))]})
    add("edit", "new text for an earlier post", {"type": "edit", "target": reply.id_text, "text": "Edited."})
    add("like", "a like names the entry it likes", {"type": "like", "target": hello.id_text})
    add("boost", "a boost names the entry it passes on", {"type": "boost", "target": hello.id_text})
    for kind in ("follow", "unfollow", "block", "unblock", "mute", "unmute"):
        add(kind, "relation types name an identity", {"type": kind, "target": bob_did})
    add("delete", "asks every node to drop the content of an entry", {"type": "delete", "target": reply.id_text})
    add("unknown_type", "types this node does not know are kept and passed on",
        {"type": "poll", "question": "?"})
    add("expires", "an ephemeral post: nodes drop its content after expires",
        {"type": "post", "text": "Gone tomorrow."}, expires=T0 + 5 * HOUR + DAY)
    add("header_only", "the content is absent (deleted, expired or not fetched); the header still "
        "verifies and chains", {"type": "post", "text": "You will not see this."}, absent=True)
    add("at_skew_limit", "ts exactly 10 minutes after now_ms is still accepted",
        {"type": "post", "text": "From a fast clock."}, ts=NOW + MAX_FUTURE_SKEW_MS)

    phone: list[Entry] = []
    for seq in (1, 2):
        data = encode_content({"type": "post", "text": f"From my phone, {seq}."})
        entry = sign_entry(KEYS["alice_phone"], author=alice.did, seq=seq, prev=phone[-1].id if phone else None,
                           ts=T0 + HOUR + seq * 60_000, content=data)
        head = (phone[-1].seq, phone[-1].id_text) if phone else (0, None)
        valid.append(_entry_json(f"revoked_device_seq_{seq}", "a revoked device's entries up to its last "
                                 "seq (2) stay valid", entry, data, head, "alice_phone", "alice"))
        phone.append(entry)

    return {
        "keys": _keys_table(),
        "constants": {"max_future_skew_ms": MAX_FUTURE_SKEW_MS, "max_header_bytes": MAX_HEADER_BYTES,
                      "max_content_bytes": MAX_CONTENT_BYTES},
        "identities": {
            "alice": {"did": alice.did, "ops": [_text(op.raw) for op in alice.line],
                      "state": _states(alice.line)[-1].to_json()},
            "bob": {"did": bob_did, "ops": [_text(bob.raw)], "state": _states([bob])[-1].to_json()},
        },
        "valid": valid,
        "invalid": _invalid_entries(alice, laptop, phone),
        "fork": _fork_pair(alice, laptop),
    }


_OMIT: Final = object()


def _header(key: str, author: str, seq: int, prev: Entry | None, ts: int, content: bytes,
            **changes: Any) -> dict[str, Any]:
    """A header as sign_entry would make it, with ``changes`` (``_OMIT`` drops a field)."""
    header = {"v": 1, "author": author, "device": KEYS[key].did, "seq": seq,
              "prev": prev.id_text if prev else None, "ts": ts, "content_hash": b64url(sha256(content)),
              "content_size": len(content), **changes}
    return {k: v for k, v in header.items() if v is not _OMIT}


def _invalid_entries(alice: _Alice, laptop: list[Entry], phone: list[Entry]) -> list[dict[str, Any]]:
    did = alice.did
    one, two = laptop[0], laptop[1]
    text = encode_content({"type": "post", "text": "Second thoughts."})
    ts = T0 + 4 * HOUR + 60_000

    def signed(key: str, seq: int, prev: Entry | None, content: bytes, signer: str | None = None,
               **changes: Any) -> bytes:
        return _sign_raw(KEYS[signer or key], _header(key, did, seq, prev, ts, content, **changes))

    good = signed("alice_laptop", 2, one, text)
    no_text = b'{"type":"post"}'
    cases: list[tuple[str, str, bytes, bytes | None, tuple[int, str | None], str | None, str]] = [
        ("malformed_not_canonical", "a space after a colon", good.replace(b'"seq":', b'"seq": ', 1), text,
         (1, one.id_text), "alice", "malformed"),
        ("malformed_missing_field", "no content_size", signed("alice_laptop", 2, one, text, content_size=_OMIT),
         text, (1, one.id_text), "alice", "malformed"),
        ("malformed_float_version", "v is 1.0: a float, although 1.0 == 1 in many languages",
         signed("alice_laptop", 2, one, text, v=1.0), text, (1, one.id_text), "alice", "malformed"),
        ("malformed_prev_on_first", "seq 1 must have prev null", signed("alice_laptop", 1, two, text), text,
         (0, None), "alice", "malformed"),
        ("malformed_content", "the content hashes right but a post needs text",
         signed("alice_laptop", 2, one, no_text), no_text, (1, one.id_text), "alice", "malformed"),
        ("oversize_header", "a header longer than 1024 bytes is refused before it is parsed",
         signed("alice_laptop", 2, one, text, padding="x" * MAX_HEADER_BYTES), text, (1, one.id_text), "alice", "oversize"),
        ("oversize_content", "content_size above 65536", signed("alice_laptop", 2, one, text,
                                                                content_size=MAX_CONTENT_BYTES + 1),
         None, (1, one.id_text), "alice", "oversize"),
        ("bad_signature", "signed by the phone's key, but the header names the laptop",
         signed("alice_laptop", 2, one, text, signer="alice_phone"), text, (1, one.id_text), "alice",
         "bad_signature"),
        ("broken_chain", "prev is not the id of the held seq 1", signed("alice_laptop", 2, two, text), text,
         (1, one.id_text), "alice", "broken_chain"),
        ("gap", "seq 3 when the log's head is seq 1", signed("alice_laptop", 3, two, text), text,
         (1, one.id_text), "alice", "gap"),
        ("content_mismatch", "the content is not what content_hash names", good,
         encode_content({"type": "post", "text": "Third thoughts."}), (1, one.id_text), "alice",
         "content_mismatch"),
        ("unauthorized_device", "a device key the identity never authorized",
         signed("mallory", 1, None, text), text, (0, None), "alice", "unauthorized_device"),
        ("revoked_device", "the phone's seq 3; it was revoked after seq 2, whatever ts the entry claims",
         _sign_raw(KEYS["alice_phone"], _header("alice_phone", did, 3, phone[1], T0, text)), text,
         (2, phone[1].id_text), "alice", "revoked_device"),
        ("future_timestamp", "ts more than 10 minutes after now_ms",
         _sign_raw(KEYS["alice_laptop"], _header("alice_laptop", did, 2, one, NOW + MAX_FUTURE_SKEW_MS + 1, text)),
         text, (1, one.id_text), "alice", "future_timestamp"),
        ("unknown_identity", "the node holds no identity log for the author",
         _sign_raw(KEYS["alice_laptop"], _header("alice_laptop", "did:weft:" + "a" * 48, 1, None, ts, text)),
         text, (0, None), None, "unknown_identity"),
    ]
    return [{"name": name, "description": why, "header": _text(raw), "content": _text(content) if content else None,
             "head_seq": head[0], "head_id": head[1], "identity": ident, "now_ms": NOW, "expected_code": code}
            for name, why, raw, content, head, ident, code in cases]


def _fork_pair(alice: _Alice, laptop: list[Entry]) -> dict[str, Any]:
    held, one = laptop[1], laptop[0]
    data = encode_content({"type": "post", "text": "Hello, other weft!"})
    other = sign_entry(KEYS["alice_laptop"], author=alice.did, seq=2, prev=one.id, ts=held.ts, content=data)
    return {"description": "two different entries with the same device and seq, each valid on its own "
            "against head (1, id of seq 1); a node that holds one and is offered the other keeps both "
            "as evidence, refuses further entries of that device log, and reports 'fork'",
            "identity": "alice", "head_seq": 1, "head_id": one.id_text, "now_ms": NOW,
            "held": {"header": _text(held.raw), "id": held.id_text},
            "offered": {"header": _text(other.raw), "id": other.id_text, "content": _text(data)},
            "expected_code": "fork"}


# -- output -----------------------------------------------------------------


def build_vectors() -> dict[str, Any]:
    """All vectors, by file: {"encoding": …, "identity": …, "entries": …}."""
    alice = _Alice()
    return {"encoding": _encoding(), "identity": _identity(alice), "entries": _entries(alice)}


def render(vectors: dict[str, Any]) -> dict[str, bytes]:
    """The bytes of each vectors file, by file name."""
    return {f"{name}.json": orjson.dumps(section, option=orjson.OPT_INDENT_2 | _SORTED) + b"\n"
            for name, section in vectors.items()}


def vectors_cli(argv: list[str] | None, prog: str, files: Callable[[], dict[str, bytes]]) -> int:
    """``python -m PROG OUTDIR``: write the files ``files()`` renders into OUTDIR.

    Shared by every module that generates protocol vectors (core, transport, rpc).
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {prog} OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0])
    outdir.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (outdir / name).write_bytes(data)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m weft.core.vectors OUTDIR``: write the vectors files into OUTDIR."""
    return vectors_cli(argv, "weft.core.vectors", lambda: render(build_vectors()))


if __name__ == "__main__":
    sys.exit(main())
