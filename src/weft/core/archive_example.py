"""The example archive of docs/protocol/archive.md, built from the core alone.

Deterministic: fixed seeds (``bytes([n]) * 32``), fixed timestamps, no clock and
no randomness (Ed25519 signatures are deterministic). ``python -m
weft.core.archive_example FILE`` writes it; the committed copy is
``docs/protocol/vectors/archive-example.weft`` and ``tests/archive/test_docs.py``
checks it is exactly what this module builds and that it verifies.

Alice has two devices. Her laptop wrote a profile, a post, a second post that it
then deleted (so that post travels as a header only), and an edit of the first
post; her phone liked the first post, wrote a post that expired before the
archive was made (a header only too), and posted a picture: a one-pixel PNG, which
the archive carries as a blob record after the entries.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any, Final

from weft.core.archive import ArchiveWriter
from weft.core.content import encode_content
from weft.core.entry import Entry, sign_entry
from weft.core.identity import sign_op
from weft.core.ids import did_from_genesis
from weft.core.keys import SigningKey

__all__ = ["CREATED", "RED_DOT", "build_example", "main"]

T0: Final = 1_700_000_000_000  # 2023-11-14T22:13:20Z
MINUTE: Final = 60_000
CREATED: Final = T0 + 24 * 60 * MINUTE
RECOVERY, SERVER, LAPTOP, PHONE = (SigningKey(bytes([seed]) * 32) for seed in (1, 2, 3, 4))
# A 1x1 PNG of one red pixel, written out so the example never depends on a zlib version.
RED_DOT: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c494441"
    "5478da63f8cfc0000003010100f70341430000000049454e44ae426082")


def _extend(log: list[tuple[Entry, bytes]], key: SigningKey, did: str,
            items: list[tuple[int, dict[str, Any], int | None]]) -> list[tuple[Entry, bytes]]:
    """Sign ``items`` (ts, content, expires) as the next entries of ``key``'s log."""
    for ts, content, expires in items:
        data = encode_content(content)
        prev = log[-1][0].id if log else None
        log.append((sign_entry(key, author=did, seq=len(log) + 1, prev=prev, ts=ts, content=data,
                               expires=expires), data))
    return log


def build_example() -> bytes:
    """The example archive's bytes."""
    laptop_info = {"name": "laptop", "added": T0}
    genesis = sign_op(SERVER, prev=None, ts=T0, rotation_keys=[RECOVERY.did, SERVER.did],
                      devices={LAPTOP.did: laptop_info})
    add_phone = sign_op(SERVER, prev=genesis.id, ts=T0 + MINUTE, rotation_keys=[RECOVERY.did, SERVER.did],
                        devices={LAPTOP.did: laptop_info, PHONE.did: {"name": "phone", "added": T0 + MINUTE}})
    did = did_from_genesis(genesis.raw)
    laptop = _extend([], LAPTOP, did, [
        (T0 + 2 * MINUTE, {"type": "profile", "name": "Alice"}, None),
        (T0 + 3 * MINUTE, {"type": "post", "text": "hello, weft"}, None),
        (T0 + 4 * MINUTE, {"type": "post", "text": "this one I will delete"}, None),
    ])
    hello, doomed = laptop[1][0].id_text, laptop[2][0].id_text
    _extend(laptop, LAPTOP, did, [
        (T0 + 5 * MINUTE, {"type": "edit", "target": hello, "text": "hello, weft!"}, None),
        (T0 + 6 * MINUTE, {"type": "delete", "target": doomed}, None),
    ])
    phone = _extend([], PHONE, did, [
        (T0 + 7 * MINUTE, {"type": "like", "target": hello}, None),
        (T0 + 8 * MINUTE, {"type": "post", "text": "gone in an hour"}, T0 + 68 * MINUTE),
        (T0 + 9 * MINUTE, {"type": "post", "text": "a red dot", "attachments": [{
            "blob": hashlib.sha256(RED_DOT).hexdigest(), "mime": "image/png", "alt": "one red pixel",
            "width": 1, "height": 1}]}, None),
    ])
    # What the exporting node no longer holds: deleted content, and content expired by CREATED.
    header_only = {doomed, phone[1][0].id_text}
    logs = sorted([laptop, phone], key=lambda log: log[0][0].device)
    writer = ArchiveWriter(did, CREATED, 2, sum(len(log) for log in logs))
    lines = [writer.start(), writer.op(genesis.raw), writer.op(add_phone.raw)]
    for log in logs:
        for entry, data in log:
            lines.append(writer.entry(entry.raw, None if entry.id_text in header_only else data))
    lines.append(writer.blob_part(hashlib.sha256(RED_DOT).hexdigest(), len(RED_DOT), 1, RED_DOT))
    lines.append(writer.end())
    return b"".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m weft.core.archive_example FILE``: write the example archive."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m weft.core.archive_example FILE")
    Path(args[0]).write_bytes(build_example())


if __name__ == "__main__":
    main()
