"""Finding weft nodes on the local network, and being found, with mDNS/DNS-SD (zeroconf).

A node advertises its gossip port as a ``_weft._tcp.local.`` service whose TXT record
says which key the node will prove in the handshake, which network it belongs to (a
fingerprint of the network key, never the key) and which version of this advertisement it
speaks. It browses for the same service type; each advertisement of another node of the
same network is written to the peers table (source ``lan``) and the scheduler is woken.

Nothing in an advertisement is trusted beyond "try here": multicast DNS is unauthenticated,
so the address and key only say where to dial and what the handshake must prove. What is
ignored, and why, is in docs/protocol/replication.md, section "Discovery".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final

import ifaddr
from sqlalchemy.exc import SQLAlchemyError
from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from weft.core.keys import public_key_from_did_key
from weft.errors import KeyFormatError
from weft.store.database import Database
from weft.store.peers import Peer, note_lan_peer
from weft.sync.shs import WEFT_NETWORK_KEY

__all__ = ["LAN_VERSION", "SERVICE_TYPE", "LanAdvert", "LanDiscovery", "advert_properties",
           "network_fingerprint", "read_advert"]

log = logging.getLogger("weft.sync")

SERVICE_TYPE: Final = "_weft._tcp.local."
LAN_VERSION: Final = "1"             # of the advertisement (TXT "v"), not of the replication protocol
RESOLVE_TIMEOUT_MS: Final = 3_000    # a node that does not answer within this is skipped until it re-announces


@dataclass(frozen=True)
class LanAdvert:
    """A weft node as it announced itself: where its gossip port is, and the key it must prove."""

    host: str
    port: int
    key: str                 # did:key of its transport key
    http_port: int | None


def network_fingerprint(network_key: bytes) -> str:
    """16 hex digits that tell networks apart without saying the key.

    A private network's key is what lets a node in; advertising it on a LAN would give it
    away, so only a hash of it (separated from every other use of the key) goes out.
    """
    return hashlib.sha256(b"weft lan network\x00" + network_key).hexdigest()[:16]


def advert_properties(key: str, network_key: bytes, http_port: int | None = None) -> dict[str, str]:
    """The TXT record of this node's advertisement."""
    properties = {"v": LAN_VERSION, "key": key, "net": network_fingerprint(network_key)}
    if http_port is not None:
        properties["http"] = str(http_port)
    return properties


def read_advert(info: ServiceInfo, *, network_key: bytes, own_key: str) -> LanAdvert | None:
    """The advertisement in a resolved service, or None (with the reason logged) if it is not
    one this node should dial: another version, another network, itself, or unusable."""
    text = {k.decode("ascii", "replace"): None if v is None else v.decode("utf-8", "replace")
            for k, v in info.properties.items()}
    key = text.get("key") or ""
    port = info.port or 0
    hosts = [host for host in info.parsed_addresses(IPVersion.V4Only) if _dialable_address(host)]
    if text.get("v") != LAN_VERSION:
        reason = f"advertisement version {text.get('v')!r}, not {LAN_VERSION}"
    elif text.get("net") != network_fingerprint(network_key):
        reason = "a node of another network"
    elif key == own_key:
        reason = "this node itself"
    elif not _is_did_key(key):
        reason = f"key {key[:60]!r} is not an Ed25519 did:key"
    elif not 0 < port < 65536:
        reason = f"port {port}"
    elif not hosts:
        reason = "no IPv4 address to dial"
    else:
        return LanAdvert(hosts[0], port, key, _port(text.get("http")))
    log.debug("LAN: ignored %s (%s): %s", info.name, key[:60], reason)
    return None


def _is_did_key(text: str) -> bool:
    try:
        public_key_from_did_key(text)
    except KeyFormatError:
        return False
    return True


def _dialable_address(host: str) -> bool:
    address = ipaddress.ip_address(host)
    return not (address.is_unspecified or address.is_multicast)


def _port(text: str | None) -> int | None:
    if text is None or not text.isdigit() or not 0 < int(text) < 65536:
        return None
    return int(text)


class LanDiscovery:
    """Advertise this node's gossip port on the LAN and record the weft nodes found there.

    ``interfaces`` (IPv4 addresses) restricts both to those interfaces, and they are the
    addresses advertised; by default every interface is used and every address but loopback
    is advertised. ``on_peer`` hears of each node recorded (the scheduler's ``wake``).
    ``weft serve --no-lan`` simply does not start one. Use ``async with`` or start()/stop().
    """

    def __init__(self, db: Database, clock: Callable[[], int], *, key: str, gossip_port: int,
                 network_key: bytes = WEFT_NETWORK_KEY, http_port: int | None = None,
                 interfaces: Sequence[str] | None = None,
                 on_peer: Callable[[Peer], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.key = key
        self.gossip_port = gossip_port
        self.network_key = network_key
        self.http_port = http_port
        self.interfaces = list(interfaces) if interfaces is not None else None
        self.on_peer = on_peer
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._announcing: asyncio.Task[None] | None = None

    @property
    def instance_name(self) -> str:
        """This node's service name: from its key, so that it is stable and unique on the LAN."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:12]
        return f"weft-{digest}.{SERVICE_TYPE}"

    def advertisement(self) -> AsyncServiceInfo:
        """What this node announces: its gossip port, addresses and TXT record."""
        host = self.instance_name.split(".", 1)[0]
        return AsyncServiceInfo(SERVICE_TYPE, self.instance_name, port=self.gossip_port,
                                properties=advert_properties(self.key, self.network_key, self.http_port),
                                server=f"{host}.local.", parsed_addresses=self._addresses())

    async def start(self) -> None:
        """Join the LAN's multicast group, announce this node and start browsing.

        OSError if no multicast socket can be opened (no interface, no permission): a node
        still serves without LAN discovery, so the caller logs it and goes on.
        """
        if self._zeroconf is not None:
            return
        zeroconf = AsyncZeroconf(interfaces=InterfaceChoice.All if self.interfaces is None else self.interfaces,
                                 ip_version=IPVersion.V4Only)
        self._zeroconf = zeroconf
        try:
            self._browser = AsyncServiceBrowser(zeroconf.zeroconf, SERVICE_TYPE, handlers=[self._on_change])
        except BaseException:
            await self.stop()
            raise
        # Announcing starts with about a second of probing for name conflicts: in the
        # background, so that a node serves (and hears others) meanwhile.
        self._announcing = asyncio.create_task(self._announce(zeroconf), name="weft-lan-announce")
        log.info("LAN discovery on %s: advertising gossip port %d as %s",
                 ", ".join(self.interfaces) if self.interfaces is not None else "every interface",
                 self.gossip_port, self.instance_name)

    async def stop(self) -> None:
        """Say goodbye on the LAN (peers drop our advertisement) and stop browsing. Idempotent."""
        zeroconf, self._zeroconf = self._zeroconf, None
        browser, self._browser = self._browser, None
        resolving = [*self._resolving.values(), *([self._announcing] if self._announcing else [])]
        self._resolving.clear()
        self._announcing = None
        for task in resolving:
            task.cancel()
        for task in resolving:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if browser is not None:
            await browser.async_cancel()
        if zeroconf is not None:
            await zeroconf.async_close()

    async def __aenter__(self) -> LanDiscovery:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()

    async def _announce(self, zeroconf: AsyncZeroconf) -> None:
        try:
            # allow_name_change: should two nodes' names collide, both stay visible. This
            # returns once probing is over; zeroconf sends the announcements on its own, and
            # async_close says goodbye for whatever is registered by then.
            await zeroconf.async_register_service(self.advertisement(), allow_name_change=True)
        except OSError as exc:
            log.warning("LAN: could not announce this node: %s", exc)

    # -- what the browser hears ------------------------------------------------------

    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                   state_change: ServiceStateChange) -> None:
        # Called by zeroconf on the event loop, so it must not block: resolve in a task.
        # A removed service is left alone: the peers table keeps the node, and the
        # scheduler's backoff deals with it being gone.
        if state_change is ServiceStateChange.Removed or name in self._resolving:
            return
        task = asyncio.get_running_loop().create_task(self._resolve(zeroconf, service_type, name),
                                                      name=f"weft-lan-{name[:40]}")
        self._resolving[name] = task
        task.add_done_callback(lambda _: self._resolving.pop(name, None))

    async def _resolve(self, zeroconf: Zeroconf, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(zeroconf, RESOLVE_TIMEOUT_MS):
            log.debug("LAN: %s did not answer within %d ms", name, RESOLVE_TIMEOUT_MS)
            return
        advert = read_advert(info, network_key=self.network_key, own_key=self.key)
        if advert is not None:
            await self._record(advert)

    async def _record(self, advert: LanAdvert) -> None:
        try:
            async with self.db.write() as conn:
                peer = await note_lan_peer(conn, advert.host, advert.port, key=advert.key, now_ms=self.clock())
        except SQLAlchemyError as exc:
            log.warning("LAN: could not record %s:%d: %s", advert.host, advert.port, exc)
            return
        log.info("LAN: found %s at %s", advert.key, peer.address)
        if self.on_peer is not None:
            self.on_peer(peer)

    def _addresses(self) -> list[str]:
        if self.interfaces is not None:
            return list(self.interfaces)
        # Loopback is left out: no other machine can dial it.
        return [address for address in _all_interfaces() if not ipaddress.ip_address(address).is_loopback]


def _all_interfaces() -> list[str]:
    """The host's IPv4 addresses (the ones zeroconf listens on for InterfaceChoice.All)."""
    return sorted({ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips
                   if ip.is_IPv4 and isinstance(ip.ip, str)})
