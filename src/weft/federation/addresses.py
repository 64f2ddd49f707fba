"""Which network addresses weft may connect to when it fetches from or delivers to another server.

A remote document names URLs, and a stranger chooses them: an actor whose inbox is
``http://169.254.169.254/`` or ``http://localhost:5432/`` would make this node probe the cloud
metadata service or its own database (server-side request forgery). So every address a host
name resolves to is classified here, before any connection, and only public unicast
addresses are allowed, unless the node's settings say otherwise.

The kinds follow IANA's special-purpose address registries (RFC 6890 and its updates:
RFC 1918 private, RFC 6598 shared address space (CGNAT), RFC 3927 and RFC 4291 link-local,
RFC 4193 unique local, RFC 5737 and RFC 3849 and RFC 9637 documentation, RFC 2544 benchmarking,
RFC 5771 multicast, RFC 1112 class E), with three choices of ours:

- An IPv6 address that carries an IPv4 one, IPv4-mapped ``::ffff:a.b.c.d`` and the NAT64
  well-known prefix ``64:ff9b::/96`` (RFC 6052), is judged by the IPv4 address inside, since
  that is where a packet to it ends up: ``::ffff:127.0.0.1`` is loopback, while on an
  IPv6-only host behind DNS64 a public IPv4 server stays reachable (Mastodon refuses the whole
  NAT64 prefix; that would cut such hosts off from IPv4-only servers).
- Outside 2000::/3, IPv6 has no global unicast: anything there not named below (such as the
  deprecated IPv4-compatible ``::a.b.c.d``) is reserved. Inside it, 6to4 (``2002::/16``,
  deprecated by RFC 7526) and the IETF protocol block ``2001::/23`` (Teredo and others) are
  reserved as well: no server is met there, and they embed addresses in ways easy to misjudge.
- Two groups. ``LOCAL_KINDS`` (loopback, private, link-local, shared, unique-local,
  site-local, benchmarking) are real unicast networks a LAN or a test may use: a setting
  may allow them. The rest of the non-public kinds (unspecified, multicast, broadcast,
  documentation, reserved) never hold a server to talk to, so no setting allows them
  (connecting to 0.0.0.0 reaches this very host on Linux).

Pure: no resolution and no sockets here; the transport (weft.federation.fetching_transport)
resolves a name once, asks :meth:`AddressPolicy.refusal` about every address, and connects
only to an address it asked about.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from weft.errors import UsageError

__all__ = ["LOCAL_KINDS", "AddressKind", "AddressPolicy", "IPAddress", "classify", "parse_allowed"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

AddressKind = Literal[
    "public", "loopback", "private", "link-local", "shared", "unique-local", "site-local",
    "benchmarking", "unspecified", "multicast", "broadcast", "documentation", "reserved",
]

LOCAL_KINDS: frozenset[AddressKind] = frozenset({
    "loopback", "private", "link-local", "shared", "unique-local", "site-local", "benchmarking",
})

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Most specific first: the first network that holds an address gives its kind.
_IPV4_TABLE: tuple[tuple[ipaddress.IPv4Network, AddressKind], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),          # "this network": a source address only
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared"),           # carrier-grade NAT
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),      # cloud metadata services live here
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),          # IETF protocol assignments
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),        # former 6to4 relay anycast
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),           # former class E
)

_IPV6_TABLE: tuple[tuple[ipaddress.IPv6Network, AddressKind], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private"),         # NAT64 for local use (RFC 8215)
    (_V6("2001::/23"), "reserved"),             # IETF protocol assignments, Teredo among them
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("2002::/16"), "reserved"),             # 6to4
    (_V6("3fff::/20"), "documentation"),
    (_V6("2000::/3"), "public"),                # global unicast: everything else in it
    (_V6("fc00::/7"), "unique-local"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),           # deprecated, still routed on some LANs
    (_V6("ff00::/8"), "multicast"),
)

_NAT64 = _V6("64:ff9b::/96")


def classify(address: IPAddress) -> AddressKind:
    """The kind of ``address``: ``"public"`` for an address any server may have, else why not."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return classify(embedded)
        for network6, kind in _IPV6_TABLE:
            if address in network6:
                return kind
        return "reserved"
    for network4, kind in _IPV4_TABLE:
        if address in network4:
            return kind
    return "public"


def _normal_host(host: str) -> str:
    # An IPv6 literal is compared in its compressed form, whatever way it was written.
    bare = host.strip("[]").lower()
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return bare.rstrip(".")


def parse_allowed(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """Allow-list entries as people write them, ``host`` or ``host:port`` (``[v6]:port``),
    read into (host, port or None for any port); a malformed one is a UsageError."""
    parsed: set[tuple[str, int | None]] = set()
    for entry in entries:
        text = entry.strip()
        host, port = text, None
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port_text = rest.removeprefix(":") if rest.startswith(":") else None
            if rest and port_text is None:
                raise UsageError(f"allowed host {entry!r}: expected [address]:port")
        elif text.count(":") == 1:
            host, port_text = text.split(":")
        else:
            port_text = None
        if port_text is not None:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise UsageError(f"allowed host {entry!r}: the port must be 1 to 65535")
            port = int(port_text)
        if not host or any(c in host for c in "/@ ?#"):
            raise UsageError(f"allowed host {entry!r} is not a host name or address")
        parsed.add((_normal_host(host), port))
    return frozenset(parsed)


@dataclass(frozen=True)
class AddressPolicy:
    """What may be connected to.

    ``allow_private`` lets every address of :data:`LOCAL_KINDS` through (a LAN, tests on
    127.0.0.1); ``allowed`` lets them through only for the hosts named, as (host, port) with
    ``None`` for any port, the host compared as the URL wrote it (a name or an address).
    Neither ever allows the kinds that hold no server.
    """

    allow_private: bool = False
    allowed: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    def refusal(self, host: str, port: int, address: IPAddress) -> str | None:
        """None if connecting to ``address`` for ``host:port`` is allowed, else the reason."""
        kind = classify(address)
        if kind == "public":
            return None
        if kind in LOCAL_KINDS and (self.allow_private or self._names(host, port)):
            return None
        return f"{host} resolves to {address}, a {kind} address"

    def _names(self, host: str, port: int) -> bool:
        name = _normal_host(host)
        return (name, port) in self.allowed or (name, None) in self.allowed
