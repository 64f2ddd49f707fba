"""What a queued delete must remember of its target: read before the fold drops it. SQL only.

A delete removes the content of the entry it targets in the transaction that stores it
(decision 0002), and that content is what says whom the target reached: the post a like
liked, the people a post mentioned. Federating the delete later needs exactly that, so
the queue row of a hosted person's delete holds those facts (``federation_queue.
target_facts``): entry ids, people's names (did:weft or actor IRIs) and the visibility,
never text. The row, and the facts with it, go once the delete is expanded to deliveries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from weft.core.ids import parse_entry_id
from weft.errors import WeftError
from weft.store.sql import select_in

__all__ = ["target_facts"]

# The keys of a target's content that say whom it reached; nothing else is kept.
_KEPT: Mapping[str, tuple[str, ...]] = {
    "like": ("target",),
    "boost": ("target",),
    "post": ("visibility", "mentions", "reply_to"),
}


def _facts(content: Mapping[str, Any]) -> dict[str, Any]:
    kind = content.get("type")
    facts: dict[str, Any] = {"type": kind}
    for key in _KEPT.get(kind, ()) if isinstance(kind, str) else ():
        if key in content:
            facts[key] = content[key]
    if isinstance(facts.get("mentions"), list):
        facts["mentions"] = [name for name in facts["mentions"] if isinstance(name, str)]
    return facts


async def target_facts(conn: AsyncConnection, deletes: Sequence[tuple[int, int, object]]) -> dict[int, bytes]:
    """For deletes (entry row, author row, target entry id as text) whose target is held
    with its content and is their author's own: delete's row -> the target's facts (JSON).
    Call it before the fold, which drops that content."""
    wanted: dict[int, tuple[int, bytes]] = {}
    for row, author, target in deletes:
        if not isinstance(target, str):
            continue
        try:
            wanted[row] = (author, parse_entry_id(target))
        except WeftError:
            continue
    if not wanted:
        return {}
    held = {bytes(entry_id): (author, content) for entry_id, author, content in await select_in(
        conn, "SELECT entry_id, author, content FROM entries WHERE content IS NOT NULL AND entry_id {in}",
        sorted({target for _, target in wanted.values()}))}
    found: dict[int, bytes] = {}
    for row, (author, target) in wanted.items():
        if target not in held or held[target][0] != author:
            continue       # only an author's own delete removes anything (docs/protocol/views.md)
        content = orjson.loads(held[target][1])
        if isinstance(content, dict):
            found[row] = orjson.dumps(_facts(content))
    return found
