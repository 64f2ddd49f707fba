"""Which addresses outgoing federation requests may reach: the kinds, and the policy over them."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.errors import UsageError
from weft.federation.addresses import (
    LOCAL_KINDS,
    AddressKind,
    AddressPolicy,
    IPAddress,
    classify,
    parse_allowed,
)

TABLE: list[tuple[str, AddressKind]] = [
    ("8.8.8.8", "public"),
    ("1.1.1.1", "public"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.63.255.255", "public"),
    ("100.64.0.1", "shared"),
    ("100.127.255.255", "shared"),
    ("100.128.0.0", "public"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link-local"),       # cloud metadata
    ("172.15.255.255", "public"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("172.32.0.0", "public"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "documentation"),
    ("192.88.99.1", "reserved"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("2606:4700::1111", "public"),
    ("2a01:4f8::1", "public"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:8.8.8.8", "public"),
    ("::127.0.0.1", "reserved"),             # IPv4-compatible, deprecated
    ("::8.8.8.8", "reserved"),
    ("64:ff9b::8.8.8.8", "public"),          # NAT64 to a public server
    ("64:ff9b::127.0.0.1", "loopback"),
    ("64:ff9b::10.0.0.1", "private"),
    ("64:ff9b:1::1", "private"),
    ("100::1", "reserved"),                  # discard-only
    ("2001::1", "reserved"),                 # Teredo
    ("2001:db8::1", "documentation"),
    ("2002:7f00:1::1", "reserved"),          # 6to4 around 127.0.0.1
    ("2002:808:808::1", "reserved"),
    ("3fff::1", "documentation"),
    ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("5f00::1", "reserved"),
    ("4000::1", "reserved"),                 # outside 2000::/3: unallocated
]

ipv4 = st.ip_addresses(v=4).map(lambda a: ipaddress.IPv4Address(int(a)))
addresses: st.SearchStrategy[IPAddress] = st.one_of(
    ipv4, st.ip_addresses(v=6).map(lambda a: ipaddress.IPv6Address(int(a))))
NEVER = {"unspecified", "multicast", "broadcast", "documentation", "reserved"}


@pytest.mark.parametrize(("text", "kind"), TABLE)
def test_each_address_has_its_kind(text: str, kind: AddressKind) -> None:
    assert classify(ipaddress.ip_address(text)) == kind


@given(ipv4)
def test_an_ipv6_form_of_an_ipv4_address_is_judged_as_the_address_itself(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(f"64:ff9b::{address}")
    assert classify(mapped) == classify(nat64) == classify(address)


@given(addresses)
def test_a_public_address_is_one_python_calls_global(address: IPAddress) -> None:
    # Python's is_global (3.11) is laxer in places (it calls ::ffff:127.0.0.1 global),
    # never stricter: what we let through it lets through too.
    if classify(address) == "public":
        assert address.is_global


@given(addresses)
def test_by_default_only_public_addresses_are_allowed(address: IPAddress) -> None:
    refusal = AddressPolicy().refusal("example.org", 443, address)
    assert (refusal is None) == (classify(address) == "public")
    if refusal is not None:
        assert str(address) in refusal and classify(address) in refusal


@given(addresses)
def test_allowing_private_opens_local_networks_and_nothing_that_holds_no_server(address: IPAddress) -> None:
    refusal = AddressPolicy(allow_private=True).refusal("lan.example", 80, address)
    kind = classify(address)
    assert (refusal is None) == (kind == "public" or kind in LOCAL_KINDS)
    assert (refusal is None) != (kind in NEVER)


@given(addresses, st.sampled_from([("relay.lan", 8080), ("other.lan", 8080), ("relay.lan", 8081)]))
def test_an_allowed_host_opens_local_networks_for_that_host_and_port_alone(
        address: IPAddress, where: tuple[str, int]) -> None:
    policy = AddressPolicy(allowed=parse_allowed(["relay.lan:8080"]))
    kind = classify(address)
    allowed = kind == "public" or (kind in LOCAL_KINDS and where == ("relay.lan", 8080))
    assert (policy.refusal(*where, address) is None) == allowed


def test_loopback_allowed_by_name_or_address_on_any_port_or_one() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    policy = AddressPolicy(allowed=parse_allowed(["LOCALHOST", "[::1]:9000", "127.0.0.1:80"]))
    assert policy.refusal("localhost", 1234, loopback) is None
    assert policy.refusal("localhost.", 1234, loopback) is None
    assert policy.refusal("::1", 9000, ipaddress.ip_address("::1")) is None
    assert policy.refusal("0:0::1", 9000, ipaddress.ip_address("::1")) is None
    assert policy.refusal("::1", 9001, ipaddress.ip_address("::1")) is not None
    assert policy.refusal("127.0.0.1", 80, loopback) is None
    assert policy.refusal("127.0.0.1", 81, loopback) is not None
    # Naming a host never lets through an address that holds no server.
    assert policy.refusal("localhost", 80, ipaddress.ip_address("0.0.0.0")) is not None


def test_allow_list_entries_as_people_write_them() -> None:
    assert parse_allowed(["a.lan", "B.lan:8443", "[fe80::1]", "[::1]:80", "10.0.0.2:1"]) == {
        ("a.lan", None), ("b.lan", 8443), ("fe80::1", None), ("::1", 80), ("10.0.0.2", 1)}


@pytest.mark.parametrize("entry", ["", "host:", "host:0", "host:65536", "host:x", "[::1]x",
                                   "[::1]:", "a b", "user@host", "host/path", ":80"])
def test_a_malformed_allow_list_entry_is_a_usage_error(entry: str) -> None:
    with pytest.raises(UsageError):
        parse_allowed([entry])
