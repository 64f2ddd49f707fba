"""``weft sync`` and ``weft peers``: replicate with other nodes, with no server in between.

An address is what ``weft serve`` prints (``HOST:PORT`` of the peer's web face, where
``/api/node`` names its gossip port and key), or ``HOST:PORT~did:key:...`` of a gossip
port whose key you know. The key is pinned the first time: a node that later answers at
that address with another key is refused.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from weft.cli._runtime import DataOption, JsonOption, console, echo, emit_json, with_node
from weft.errors import UsageError, WeftError

if TYPE_CHECKING:
    from weft.node import Node
    from weft.store.peers import Peer
    from weft.sync.addresses import GossipAddress

__all__ = ["app", "sync"]

app = typer.Typer(name="peers", no_args_is_help=True, add_completion=False,
                  help="The nodes this node replicates with: add them, list them.")

AddressArgument = Annotated[str, typer.Argument(
    metavar="ADDRESS", help="HOST:PORT of the peer's web face (as weft serve prints it), "
                            "HOST:PORT~did:key:... of its gossip port, or ws://HOST:PORT to go "
                            "through a WebSocket on its web face.")]
HopsOption = Annotated[int, typer.Option("--hops", min=0, max=6,
                                         help="Replicate follows out to this many hops.")]


async def _pinned(node: Node, text: str) -> GossipAddress:
    """The address, with the key pinned in the peers table if this node met it before."""
    from weft.store.peers import add_peer, list_peers
    from weft.sync.addresses import resolve_address

    address = await resolve_address(text)
    if address.websocket:
        return address  # reached through the web face: nothing for the scheduler to dial
    async with node.db.read() as conn:
        known = {(peer.host, peer.port): peer for peer in await list_peers(conn)}
    peer = known.get((address.host, address.port))
    if peer is not None and peer.key is not None and peer.key != address.key:
        raise WeftError(f"{address.host}:{address.port} answered with key {address.key}, but this node "
                        f"pinned {peer.key} for it: refusing (remove the peer if its key really changed)")
    async with node.db.write() as conn:
        await add_peer(conn, address.host, address.port, key=address.key, source="manual", now_ms=node.clock())
    return address


def sync(address: AddressArgument, hops: HopsOption = 2, as_json: JsonOption = False,
         data: DataOption = None) -> None:
    """Sync once with a peer: exchange what each lacks of what the other follows, then hang up."""
    from weft.store.peers import list_peers, record_failure, record_success
    from weft.sync.websocket import connect_websocket

    async def work(node: Node) -> dict[str, Any]:
        target = await _pinned(node, address)
        async with node.db.read() as conn:
            peer_id = next((p.id for p in await list_peers(conn)
                            if not target.websocket and (p.host, p.port) == (target.host, target.port)), None)
        service = node.sync_service(hops=hops)
        columns = (TextColumn("{task.description}"), TimeElapsedColumn())
        quiet = as_json or not sys.stderr.isatty()  # a progress bar is for people watching
        with Progress(*columns, console=console(stderr=True), transient=True, disable=quiet) as bar:
            task = bar.add_task(f"syncing with {target.host}:{target.port}")

            def show(stats: Any) -> None:
                bar.update(task, description=(
                    f"received {stats.received:,} · verified and new {stats.stored:,} · "
                    f"{stats.bytes_in / 1e6:.1f} MB · {stats.rate:,.0f} entries/s"))

            began = time.monotonic()
            try:
                if target.websocket:
                    stream = await connect_websocket(target.url, signing_key=service.signing_key,
                                                     server_public_key=target.public_key,
                                                     network_key=service.network_key)
                    stats = await service.replicate_stream(stream, live=False, progress=show)
                else:
                    stats = await service.sync_once(target.host, target.port, target.public_key, progress=show)
            except Exception as exc:
                problem = (f"cannot reach {target.host}:{target.port}: {exc.strerror or exc}"
                           if isinstance(exc, OSError) else str(exc))
                if peer_id is not None:
                    async with node.db.write() as conn:
                        await record_failure(conn, peer_id, now_ms=node.clock(), error=problem,
                                             next_attempt=node.clock())
                if isinstance(exc, OSError):
                    raise WeftError(problem) from None
                raise
        if peer_id is not None:
            async with node.db.write() as conn:
                await record_success(conn, peer_id, now_ms=node.clock(), key=target.key,
                                     received=stats.stored, sent=stats.sent)
        return {"peer": str(target), "received": stats.received, "stored": stats.stored, "sent": stats.sent,
                "bytes_in": stats.bytes_in, "bytes_out": stats.bytes_out,
                "seconds": round(time.monotonic() - began, 3)}

    result = with_node(data, work)
    if as_json:
        emit_json(result)
        return
    echo(f"synced with {result['peer']}: received {result['received']} entries ({result['stored']} new), "
         f"sent {result['sent']}, in {result['seconds']:.1f} s")


@app.command("add")
def add(address: AddressArgument, data: DataOption = None) -> None:
    """Remember a peer (its key is asked for and pinned now); weft serve connects to it."""
    if address.strip().startswith("ws://"):
        raise UsageError("weft serve dials peers' gossip ports: add HOST:PORT (use ws:// with weft sync)")

    async def work(node: Node) -> str:
        return str(await _pinned(node, address))

    echo(with_node(data, work, needs_identity=False))


@app.command("home")
def home(address: Annotated[str | None, typer.Argument(
             metavar="[ADDRESS]", help="Your home node: HOST:PORT (as its weft serve prints it) or "
                                       "HOST:PORT~did:key:...; leave out with --clear.")] = None,
         clear: Annotated[bool, typer.Option("--clear", help="Stop naming a home node.")] = False,
         data: DataOption = None) -> None:
    """Name your home node in your identity log: nodes that follow you will dial it to find your posts."""
    from weft import custody
    from weft.sync.addresses import resolve_address

    if (address is None) != clear:
        raise UsageError("give ADDRESS, or --clear to stop naming a home node")

    async def work(node: Node) -> str:
        if address is None:
            await custody.set_home(node, None)
            return "your identity log names no home node now"
        target = await resolve_address(address)
        if target.websocket:
            raise UsageError("a home node is named by its gossip address: HOST:PORT, not ws://")
        await custody.set_home(node, str(target))
        return f"your identity log names {target} as your home node"

    echo(with_node(data, work))


@app.command("list")
def list_(as_json: JsonOption = False, data: DataOption = None) -> None:
    """The peers this node knows: state, last sync, entries exchanged, last error."""
    from weft.store.peers import list_peers

    async def work(node: Node) -> tuple[list[Peer], int]:
        async with node.db.read() as conn:
            return await list_peers(conn), node.clock()

    peers, now = with_node(data, work, needs_identity=False)
    if as_json:
        emit_json([{"address": p.address, "key": p.key, "source": p.source, "state": _state(p, now),
                    "last_success": p.last_success, "failures": p.failures, "last_error": p.last_error,
                    "received": p.entries_received, "sent": p.entries_sent} for p in peers])
        return
    if not peers:
        echo("No peers yet. Add one with 'weft peers add HOST:PORT', or let LAN discovery find them.")
        return
    table = Table("peer", "state", "last sync", "received", "sent", "last error", box=None)
    for p in peers:
        table.add_row(f"{p.address}\n{p.key or '(key not yet known)'}", _state(p, now),
                      _ago(p.last_success, now), f"{p.entries_received:,}", f"{p.entries_sent:,}",
                      (p.last_error or "")[:60])
    console().print(table)


def _state(peer: Peer, now: int) -> str:
    if peer.failures and peer.next_attempt > now:
        return f"backing off ({peer.failures} failures, retry in {(peer.next_attempt - now) // 1000} s)"
    if peer.last_success is not None and not peer.failures:
        return "ok"
    return "failing" if peer.failures else "not tried yet"


def _ago(ms: int | None, now: int) -> str:
    if ms is None:
        return "never"
    seconds = max(0, (now - ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"
