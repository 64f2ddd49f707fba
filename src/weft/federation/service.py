"""Federation's running parts for one Site: actor keys, the outgoing HTTP client, and (as
they land) remote actors, the inbox and the outbox workers.

The node assembly makes one (``weft.cli.serve.site_routes``) and sets it on
``site.federation``; the faces that do not federate (the client API, the web app, the
social service) never import this module, so they name it under TYPE_CHECKING only.

Settings come from the environment (docs/decisions/0007-federation.md):

- ``WEFT_FEDERATION_ALLOW_PRIVATE=1``: fetch and deliver to loopback and private
  addresses too (tests, and servers on one LAN). Off by default: a public server must not
  be made to reach its own network.
- ``WEFT_FEDERATION_ALLOW_HTTP=1``: plain http:// URLs (tests on loopback). Off by default.
- ``WEFT_FEDERATION_HOSTS="a.test=127.0.0.1 b.test=127.0.0.1"``: names answered without DNS.
- ``WEFT_AUTHORIZED_FETCH=1``: GETs of our actors and objects must be signed (Mastodon's
  "secure mode"); our own fetches are signed with the instance actor either way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from weft.errors import UsageError
from weft.federation.actor_keys import ActorKeys
from weft.federation.addresses import IPAddress
from weft.federation.fetching import FetchClient, FetchSettings, Signer
from weft.federation.fetching_transport import Resolver, resolve_system
from weft.federation.inbound import Inbound
from weft.federation.inbox import Inbox
from weft.federation.inbox_queue import InboxQueue
from weft.federation.outbox_workers import OutboxWorkers
from weft.federation.remote_actors import RemoteActors
from weft.federation.urls import INSTANCE_ACTOR_ID, instance_key_id
from weft.store import outbox as outbox_store

if TYPE_CHECKING:
    from weft.site import Site

__all__ = ["Federation", "FederationSettings"]


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _hosts(text: str) -> dict[str, str]:
    """``name=address`` pairs, separated by spaces or commas (an /etc/hosts of our own)."""
    found: dict[str, str] = {}
    for pair in text.replace(",", " ").split():
        name, _, address = pair.partition("=")
        try:
            ip_address(address)
        except ValueError:
            raise UsageError(f"WEFT_FEDERATION_HOSTS: {pair!r} is not name=address") from None
        found[name.strip().lower()] = address
    return found


@dataclass(frozen=True)
class FederationSettings:
    fetch: FetchSettings
    authorized_fetch: bool = False
    # Host names answered without DNS (``WEFT_FEDERATION_HOSTS="a.test=127.0.0.1 b.test=127.0.0.1"``):
    # several nodes on one machine or LAN with names of their own, as the tests run them.
    # The addresses still pass the private-address rule.
    hosts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> FederationSettings:
        return cls(fetch=FetchSettings(allow_private=_flag(environ, "WEFT_FEDERATION_ALLOW_PRIVATE"),
                                       allow_http=_flag(environ, "WEFT_FEDERATION_ALLOW_HTTP"),
                                       user_agent="weft (+https://github.com/weft)"),
                   authorized_fetch=_flag(environ, "WEFT_AUTHORIZED_FETCH"),
                   hosts=_hosts(environ.get("WEFT_FEDERATION_HOSTS", "")))

    def resolver(self) -> Resolver:
        """The names in ``hosts`` by the table, the rest by the system's resolver."""
        table = {name: ip_address(address) for name, address in self.hosts.items()}

        async def resolve(host: str, port: int) -> Sequence[IPAddress]:
            known = table.get(host.lower())
            return [known] if known is not None else await resolve_system(host, port)

        return resolve


class Federation:
    """What federating needs, made once per serving process."""

    def __init__(self, site: Site, settings: FederationSettings) -> None:
        self.site = site
        self.settings = settings
        self.keys = ActorKeys(site.node.db, site.accounts.vault, site.node.clock)
        self._client: FetchClient | None = None
        self.outbox = OutboxWorkers(self)    # queue -> deliveries -> inboxes; started by `weft serve`
        self.actors = RemoteActors(self)     # remote actors, keys, objects, handles
        self.inbound = Inbound(self)         # activities -> foreign entries
        self.inbox = Inbox(self)             # POST /inbox and /users/{name}/inbox
        self.inbox_queue = InboxQueue(self)  # what the inbox verified, mapped hundreds at a time

    @classmethod
    def for_site(cls, site: Site, environ: Mapping[str, str] = os.environ) -> Federation:
        return cls(site, FederationSettings.from_env(environ))

    @property
    def base_url(self) -> str:
        return self.site.base_url

    async def suspended(self, url: str) -> bool:
        """Whether server moderation suspended the host of ``url`` (or ``url`` is a bare host):
        nothing is fetched from, accepted from or delivered to it (decision 0008)."""
        host = urlsplit(url).hostname if "://" in url else url
        if not host:
            return False
        policy = await self.site.social.moderation.policy(host)
        return policy is not None and policy.suspended

    async def queues(self) -> dict[str, int]:
        """How federation's queues stand, for administrators: activities received and not
        mapped yet (``inbox_waiting``) or given up on (``inbox_failed``); hosted people's
        entries not made into deliveries yet (``outbox_queued``), deliveries ``pending`` and
        ``failed`` (kept a week); hosts the circuit breaker holds off (``hosts_down``)."""
        inbox = await self.inbox_queue.counts()
        async with self.site.node.db.read() as conn:
            outbox = await outbox_store.counts(conn)
            down = await outbox_store.hosts_down(conn, self.site.node.clock())
        return {"inbox_waiting": inbox["waiting"], "inbox_failed": inbox["failed"], "outbox_queued": outbox["queued"],
                "outbox_pending": outbox["pending"], "outbox_failed": outbox["failed"], "hosts_down": down}

    async def instance_signer(self) -> Signer:
        """Signs fetches as the instance actor (what authorized-fetch servers require)."""
        key = await self.keys.key(INSTANCE_ACTOR_ID)
        return key.signer(instance_key_id(self.base_url), self.site.node.clock)

    @property
    def client(self) -> FetchClient:
        """The one outgoing HTTP client (connection pools, per-host limits), made on first use."""
        if self._client is None:
            self._client = FetchClient(self.settings.fetch, resolver=self.settings.resolver())
        return self._client

    async def close(self) -> None:
        await self.inbox_queue.close()       # before the outbox: mapping may queue deliveries
        await self.outbox.stop()             # before the client its deliveries use
        if self._client is not None:
            await self._client.aclose()
            self._client = None
