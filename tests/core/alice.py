"""Alice, her keys, her identity log and a log of entries: the plain values the core tests share."""

from __future__ import annotations

from typing import Any

from weft.core.content import encode_content
from weft.core.entry import Entry, sign_entry
from weft.core.identity import IdentityOp, IdentityState, next_state, sign_op
from weft.core.keys import SigningKey

T0 = 1_700_000_000_000
HOUR = 3_600_000
NOW = T0 + 24 * HOUR


def key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


RECOVERY, SERVER, LAPTOP, PHONE, NEW_SERVER, MALLORY, TABLET = (key(n) for n in range(1, 8))
KEYS = [RECOVERY.did, SERVER.did]


def device(name: str, added: int = T0) -> dict[str, Any]:
    return {"name": name, "added": added}


GENESIS = sign_op(SERVER, prev=None, ts=T0, rotation_keys=KEYS, devices={LAPTOP.did: device("laptop")},
                  handles=["alice@example.org"], services={"home": "https://example.org"})


def amend(prev: IdentityOp, signer: SigningKey, ts: int, **changes: Any) -> IdentityOp:
    """An operation after ``prev`` that keeps alice's genesis state except for ``changes``."""
    body: dict[str, Any] = {"rotation_keys": KEYS, "devices": {LAPTOP.did: device("laptop")},
                            "handles": ["alice@example.org"], "services": {"home": "https://example.org"}}
    body.update(changes)
    return sign_op(signer, prev=prev.id, ts=ts, **body)


ADD_PHONE = amend(GENESIS, SERVER, T0 + HOUR,
                  devices={LAPTOP.did: device("laptop"), PHONE.did: device("phone", T0 + HOUR)})
REVOKE_PHONE = amend(ADD_PHONE, SERVER, T0 + 2 * HOUR, revoked={PHONE.did: 2})


def states(*ops: IdentityOp, now_ms: int = NOW) -> list[IdentityState]:
    out: list[IdentityState] = []
    for op in ops:
        out.append(next_state(out[-1] if out else None, op, now_ms))
    return out


STATE = states(GENESIS, ADD_PHONE, REVOKE_PHONE)[-1]
DID = STATE.did


def post(text: str) -> bytes:
    return encode_content({"type": "post", "text": text})


def chain(signer: SigningKey, count: int, *, author: str = DID, ts: int = T0 + 3 * HOUR) -> list[Entry]:
    """``count`` chained entries of ``signer``'s log, each a post."""
    entries: list[Entry] = []
    for seq in range(1, count + 1):
        entries.append(sign_entry(signer, author=author, seq=seq,
                                  prev=entries[-1].id if entries else None, ts=ts + seq,
                                  content=post(f"entry {seq}")))
    return entries
