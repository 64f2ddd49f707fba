"""Where a peer is: ``HOST:PORT`` of its web face, ``HOST:PORT~did:key:...`` of its gossip port,
or ``ws://HOST:PORT`` to reach it through a WebSocket on its web face.

People share the URL ``weft serve`` prints, so ``HOST:PORT`` means the peer's HTTP port:
``GET /api/node`` there names its transport key and gossip port, and the key is pinned
from then on (trust on first use, as with SSH). Someone who knows the key already writes
the gossip address with it, and no HTTP is involved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx

from weft.core.keys import public_key_from_did_key
from weft.errors import KeyFormatError, UsageError, WeftError

__all__ = ["GossipAddress", "parse_address", "resolve_address"]

MAX_NODE_INFO_BYTES = 64 * 1024
_ADDRESS = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[A-Za-z0-9.\-]+)):(?P<port>\d{1,5})"
                      r"(?:~(?P<key>did:key:z[1-9A-HJ-NP-Za-km-z]+))?$")


@dataclass(frozen=True)
class GossipAddress:
    host: str
    port: int
    key: str   # the peer's transport key, did:key
    websocket: bool = False   # port is the web face's, and the handshake runs in a WebSocket

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/api/gossip"

    @property
    def public_key(self) -> bytes:
        return public_key_from_did_key(self.key)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'ws://' if self.websocket else ''}{host}:{self.port}~{self.key}"


def parse_address(text: str) -> tuple[str, int, str | None]:
    """(host, port, key or None); UsageError with the expected forms otherwise."""
    match = _ADDRESS.match(text.strip())
    port = int(match["port"]) if match else 0
    if match is None or not 0 < port < 65536:
        raise UsageError(f"{text[:80]!r} is not a peer address: write HOST:PORT (the URL weft serve "
                         "printed) or HOST:PORT~did:key:... (a gossip port and its key)")
    key = match["key"]
    if key is not None:
        try:
            public_key_from_did_key(key)
        except KeyFormatError as exc:
            raise UsageError(f"{key[:60]}… is not an Ed25519 did:key: {exc}") from None
    return match["v6"] or match["host"], port, key


async def resolve_address(text: str, *, timeout: float = 10.0) -> GossipAddress:
    """The gossip address ``text`` names, asking the peer's web face when no key is given.

    ``ws://HOST:PORT`` (the web face's port) means: replicate through a WebSocket there,
    for peers that only web traffic reaches.
    """
    websocket = text.strip().startswith("ws://")
    host, port, key = parse_address(text.strip().removeprefix("ws://").rstrip("/"))
    if key is not None:
        return GossipAddress(host, port, key, websocket)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/api/node"
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client, \
                client.stream("GET", url) as response:
            response.raise_for_status()
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_NODE_INFO_BYTES:  # a node's card is a few hundred bytes
                    raise ValueError(f"the answer is larger than {MAX_NODE_INFO_BYTES} bytes")
        info = json.loads(body)
        gossip = info["gossip"]
        key, gossip_port = str(gossip["key"]), int(gossip["port"])
        public_key_from_did_key(key)
    except httpx.HTTPError as exc:
        raise WeftError(f"cannot ask {url} for the node's gossip address: {exc}") from None
    except (ValueError, KeyError, TypeError, KeyFormatError) as exc:
        raise WeftError(f"{url} did not name a gossip port and key ({exc}); is it a weft node "
                        "serving with gossip on?") from None
    return GossipAddress(host, port, key, True) if websocket else GossipAddress(host, gossip_port, key)
