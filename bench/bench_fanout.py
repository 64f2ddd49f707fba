"""Federation fan-out: one post to 10,000 followers on 1,000 hosts, through the durable outbox.

Half the hosts give their followers a shared inbox (one delivery for ten followers), half
do not (ten deliveries), so one post makes 5,500 deliveries. The inboxes are one server in
a process of its own (bench/fanout_inboxes.py) answering under every host name; the
deliverer's resolver maps the names to 127.0.0.1. Measured on SQLite, in one run:

- the bound: raw signed POSTs per second to the same server, with the same client, the same
  concurrency (64) and the same RSA signing, but no queue, rows, limits or settling;
- the outbox: the post's expansion to deliveries, then the time to drain them (every one
  done), as deliveries per second beside the bound;
- resilience: a second post while 30% of the hosts answer 503. A first pass delivers what
  it can (the failing hosts' deliveries back off, their hosts trip the breaker); the hosts
  recover, the clock moves past every wait, and the rest drains. Counts are printed; no
  delivery may be lost or sent twice.

Run alone: ``.venv/bin/python -m bench fanout``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import insert

from bench.results import record
from weft.config import NodeConfig
from weft.federation.addresses import IPAddress
from weft.federation.delivery import Deliverer
from weft.federation.fetching import FetchClient, FetchSettings
from weft.federation.outbox import Expander
from weft.federation.service import Federation
from weft.federation.urls import actor_url, key_id
from weft.node import Node, system_clock
from weft.site import Site
from weft.store import identities as identity_store
from weft.store import outbox as store
from weft.store.schema import FOLLOW, relations, remote_actors

HOSTS = 1000
PER_HOST = 10
CONCURRENCY = 64
BASE = "https://weft.bench"
ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "cd" * 32,
       "WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1"}
SETTINGS = FetchSettings(allow_private=True, allow_http=True, total_timeout=30, max_connections=256)
DELIVERIES = HOSTS // 2 + HOSTS // 2 * PER_HOST


async def loopback(_host: str, _port: int) -> Sequence[IPAddress]:
    return [ipaddress.ip_address("127.0.0.1")]


def host_name(index: int) -> str:
    return f"h{index:04d}.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def inbox_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "bench.fanout_inboxes", str(port)])
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.get(f"http://127.0.0.1:{port}/_stats")
                return process
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    process.kill()
    raise RuntimeError("the inbox server did not start")


async def control(port: int, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await (http.post if path.startswith("/_fail") else http.get)(f"http://127.0.0.1:{port}{path}")
        return orjson.loads(response.content) if response.content else {}


async def add_followers(node: Node, author: int, port: int) -> None:
    """10 followers on each of 1,000 hosts; the even hosts have a shared inbox."""
    iris = [f"https://{host_name(h)}/users/u{f}" for h in range(HOSTS) for f in range(PER_HOST)]
    async with node.db.write() as conn:
        ids = await identity_store.ensure_identities(conn, iris)
        actors, follows = [], []
        for h in range(HOSTS):
            base = f"http://{host_name(h)}:{port}"
            for f in range(PER_HOST):
                iri = f"https://{host_name(h)}/users/u{f}"
                actors.append({"identity": ids[iri], "iri": iri, "host": host_name(h), "kind": "Person",
                               "inbox": f"{base}/users/u{f}/inbox", "shared_inbox": f"{base}/inbox" if h % 2 == 0 else None,
                               "document": b"{}", "fetched_at": node.clock()})
                follows.append({"source": ids[iri], "kind": FOLLOW, "target": author, "active": True,
                                "ts": node.clock(), "entry": 0})
        await conn.execute(insert(remote_actors), actors)
        await conn.execute(insert(relations), follows)


async def raw_rate(client: FetchClient, signer: Any, body: bytes, port: int, count: int) -> float:
    """Signed POSTs per second with nothing of the outbox around them (the bound)."""
    targets = [f"http://{host_name(i % HOSTS)}:{port}/users/u{i % PER_HOST}/inbox" for i in range(count)]
    cursor = iter(targets)

    async def sender() -> None:
        for url in cursor:
            await client.deliver(url, body, signer=signer)

    began = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - began)


async def counts(node: Node) -> dict[str, int]:
    async with node.db.read() as conn:
        return await store.counts(conn)


async def drain(deliverer: Deliverer, node: Node, done: int) -> float:
    """Run the deliverer until ``done`` deliveries are done; the seconds it took."""
    stop = asyncio.Event()
    began = time.perf_counter()
    running = asyncio.create_task(deliverer.run(stop))
    while (await counts(node))["done"] < done:
        if running.done():
            running.result()
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - began
    stop.set()
    await running
    return elapsed


async def expand_all(expander: Expander) -> float:
    began = time.perf_counter()
    while await expander.expand_once():
        pass
    return time.perf_counter() - began


async def run() -> None:
    port = free_port()
    server = await inbox_server(port)
    offset = [0]

    def clock() -> int:
        return system_clock() + offset[0]

    try:
        with tempfile.TemporaryDirectory(prefix="weft-bench-") as tmp:
            async with Node.open(NodeConfig.resolve(Path(tmp) / "n", None), clock=clock) as node, \
                    FetchClient(SETTINGS, resolver=loopback) as client:
                await fan_out(node, client, clock, offset, port)
    finally:
        server.terminate()
        server.wait(10)


async def fan_out(node: Node, client: FetchClient, clock: Callable[[], int], offset: list[int], port: int) -> None:
    site = Site.for_node(node, BASE, environ=ENV)
    federation = Federation.for_site(site, ENV)
    alice = await site.accounts.sign_up("alice", "a long password", by_admin=True)
    expander = Expander(node.db, BASE, clock)
    await expand_all(expander)                       # the sign-up's profile, before any follower
    await add_followers(node, alice.identity, port)
    key = await federation.keys.key(alice.identity)
    signer = key.signer(key_id(actor_url(BASE, "alice")), clock)
    author = site.accounts.author(await site.accounts.account(alice.id))
    text = "A post of a paragraph or so, as people write them. " * 8

    body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Create", "content": text})
    bound = await raw_rate(client, signer, body, port, DELIVERIES)

    before = await control(port, "/_stats")
    await node.publish({"type": "post", "text": text}, author=author)
    expand_s = await expand_all(expander)
    made = await counts(node)
    if made["pending"] != DELIVERIES:
        raise RuntimeError(f"{made['pending']} deliveries made, not {DELIVERIES}")
    deliverer = Deliverer(node.db, federation.keys, client, clock, concurrency=CONCURRENCY, per_host=4)
    drain_s = await drain(deliverer, node, DELIVERIES)
    record("fanout_expand_10k_followers", expand_s * 1000, "ms", None, f"{DELIVERIES} deliveries made, lower is better")
    record("fanout_deliveries_per_s", DELIVERIES / drain_s, "deliveries/s", bound, "ratio >= 0.5 (raw signed POSTs)")
    record("fanout_drain_s", drain_s, "s", None, f"{DELIVERIES} deliveries, lower is better")

    # Resilience: 30% of the hosts fail while a second post goes out, then recover. (The
    # breaker's warning for each of the 300 hosts is not what this run is read for.)
    logging.getLogger("weft.federation.delivery").setLevel(logging.ERROR)
    await control(port, "/_fail?share=0.3")
    await node.publish({"type": "post", "text": "while some servers are down"}, author=author)
    await expand_all(expander)
    while await deliverer.deliver_due():
        pass
    during = await counts(node)
    print(f"while 30% of hosts fail: {during}")
    await control(port, "/_fail?share=0")
    offset[0] += 3_600_000                          # past every backoff and breaker period
    await drain(deliverer, node, 2 * DELIVERIES)
    after = await counts(node)
    stats = await control(port, "/_stats")
    print(f"after they recover: {after}; inboxes: {stats}")
    lost = 2 * DELIVERIES - after["done"]
    record("fanout_resilience_lost", lost, "deliveries", None, "0: every delivery done after the hosts recover")
    duplicates = (stats["accepted"] - before["accepted"]) - (stats["distinct"] - before["distinct"])
    record("fanout_resilience_duplicates", duplicates, "deliveries", None,
           "0: none accepted twice")
    await federation.close()
    await site.social.close()
