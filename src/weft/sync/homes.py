"""Home nodes named in identity logs: where the identities a node follows can be reached.

An identity names its home node under ``services["weft"]`` as a gossip address with its key,
``HOST:PORT~did:key:...`` (docs/protocol/identity.md section 6). A node that wants an
identity adds its home node to the peers it dials, so that following someone is enough to
start receiving their posts, even with no LAN and no peer added by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from weft.errors import UsageError
from weft.store.database import Database
from weft.store.identities import identity_rows
from weft.store.peers import add_peer, list_peers
from weft.store.wants import wanted_identities
from weft.sync.addresses import parse_address

__all__ = ["HOME_SERVICE", "learn_home_nodes"]

log = logging.getLogger("weft.sync")

HOME_SERVICE = "weft"


async def learn_home_nodes(db: Database, clock: Callable[[], int], *, hops: int, own_key: str) -> int:
    """Add the home nodes of wanted identities to the peers table; how many were new."""
    async with db.read() as conn:
        wanted = await wanted_identities(conn, hops)
        states = await identity_rows(conn, wanted)
        known = {(peer.host, peer.port) for peer in await list_peers(conn)}
    found: dict[tuple[str, int], str] = {}
    for did, (_, state) in states.items():
        text = state.services.get(HOME_SERVICE) if state is not None else None
        if not text:
            continue
        try:
            host, port, key = parse_address(text)
        except UsageError:
            log.info("%s names a home node that is not a gossip address: %.80s", did, text)
            continue
        if key is not None and key != own_key and (host, port) not in known:
            found[(host, port)] = key
    if found:
        async with db.write() as conn:
            for (host, port), key in found.items():
                await add_peer(conn, host, port, key=key, source="home", now_ms=clock())
    return len(found)
