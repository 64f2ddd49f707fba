"""The RSA keys this site's actors sign with: made on first need, sealed at rest, cached.

A hosted account's actor key is not its weft identity key: ActivityPub wants RSA-2048 and
a key the server holds, while the identity's keys stay Ed25519 (decision 0007). So each
hosted identity gets one RSA key the first time it federates or its actor document is
read, kept in ``actor_keys`` with the private half sealed under the node secret
(weft.vault), as device keys are. The instance actor (``/actor``) has its own key under
INSTANCE_ACTOR_ID. Two processes that race to make a key keep whichever was stored first.

Generating an RSA key takes about 50 ms, so it runs in a thread; loaded keys are cached
per process (a private key never leaves it unsealed except in memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from weft.federation.fetching import Signer
from weft.federation.httpsig import sign
from weft.federation.httpsig_keys import (
    generate_rsa_key,
    load_private_key,
    private_key_pem,
    public_key_pem,
)
from weft.store import actor_keys as key_store
from weft.store.database import Database
from weft.vault import Vault

__all__ = ["ActorKey", "ActorKeys"]


@dataclass(frozen=True)
class ActorKey:
    private: rsa.RSAPrivateKey
    public_pem: str

    def signer(self, key_id: str, clock: Callable[[], int]) -> Signer:
        """A FetchClient signer: draft-cavage rsa-sha256 over (request-target) host date
        digest, as Mastodon signs, dated by ``clock`` (ms)."""
        private = self.private

        def signed(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Mapping[str, str]:
            return sign(method=method, url=url, headers=headers, body=body if body or method != "GET" else None,
                        private_key=private, key_id=key_id, now=clock())

        return signed


class ActorKeys:
    """Keys by identity row (INSTANCE_ACTOR_ID for the instance actor)."""

    def __init__(self, db: Database, vault: Vault, clock: Callable[[], int]) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock
        self._cache: dict[int, ActorKey] = {}
        self._making: dict[int, asyncio.Lock] = {}

    async def key(self, identity: int) -> ActorKey:
        """The key of ``identity``, made and stored if it has none yet."""
        cached = self._cache.get(identity)
        if cached is not None:
            return cached
        async with self._making.setdefault(identity, asyncio.Lock()):
            cached = self._cache.get(identity)
            if cached is not None:
                return cached
            async with self._db.read() as conn:
                stored = await key_store.actor_key(conn, identity)
            if stored is None:
                made = await asyncio.to_thread(generate_rsa_key)
                sealed = self._vault.seal(private_key_pem(made).encode())
                async with self._db.write() as conn:
                    stored = await key_store.save_actor_key(conn, identity, sealed, public_key_pem(made),
                                                            self._clock())
            private = load_private_key(self._vault.open(stored[0]))
            if not isinstance(private, rsa.RSAPrivateKey):   # pragma: no cover - only RSA is ever stored
                raise TypeError("an actor key that is not RSA")
            key = self._cache[identity] = ActorKey(private, stored[1])
            return key

    async def public_pem(self, identity: int) -> str:
        return (await self.key(identity)).public_pem
