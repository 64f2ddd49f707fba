"""``weft serve``: the HTTP face of this data directory, under uvicorn.

The listening socket is bound before anything else, so a port in use is a
one-line error. SIGINT (Ctrl-C) and SIGTERM stop the server gracefully and
the command exits 0. Expired posts are purged when the node opens and every 30
seconds while serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from weft.cli._runtime import DataOption, clock_from_env, echo, node_config
from weft.errors import UsageError

if TYPE_CHECKING:
    import uvicorn
    from starlette.routing import BaseRoute

    from weft.config import NodeConfig
    from weft.federation.service import Federation
    from weft.node import Node
    from weft.site import Site
    from weft.sync.scheduler import PeerScheduler
    from weft.sync.service import SyncService

__all__ = ["serve"]

PURGE_EVERY_S: Final = 30.0
HOME_NODES_EVERY_S: Final = 60.0
DEFAULT_GOSSIP_PORT: Final = 8008  # Scuttlebutt's, as weft speaks its transport
log = logging.getLogger("weft.serve")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="Port to listen on (0 picks a free one).")] = 8080,
    name: Annotated[str, typer.Option(
        "--name", help="Display name of the operator identity, if this creates it.")] = "operator",
    gossip_port: Annotated[int, typer.Option(
        "--gossip-port", min=-1, max=65535,
        help="Port for peer-to-peer replication (secret handshake over TCP) on the same host; "
             "0 picks a free one, -1 turns gossip off.")] = DEFAULT_GOSSIP_PORT,
    hops: Annotated[int, typer.Option(
        "--hops", min=0, max=6, help="Replicate follows out to this many hops (follows of follows: 2).")] = 2,
    no_lan: Annotated[bool, typer.Option(
        "--no-lan", help="Do not advertise this node on the LAN or look for others there (mDNS).")] = False,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", envvar="WEFT_PUBLIC_URL", metavar="URL",
        help="The address people reach this server at (in links it mails, and in handles "
             "user@host); default http://HOST:PORT as bound.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=0, max=64, help="Federation's queues: start this many `weft worker` processes to "
                                         "map what the inbox keeps (and, on PostgreSQL, deliver the outbox); "
                                         "0 does all in this process.")] = 0,
    data: DataOption = None,
) -> None:
    """Serve this node over HTTP (JSON API, HTML feed, hosted accounts) and gossip with peers, until Ctrl-C.

    If the data directory holds no identity yet, it creates the operator's identity first.
    People sign up at /auth/sign_up; mail (password-reset links) goes through the SMTP
    server named by WEFT_SMTP_HOST, or into DATA/mail when none is set.
    The gossip listener takes peers' connections on --gossip-port (default 8008); other
    nodes find it, and this node's transport key, at /api/node.
    """
    config = node_config(data)
    clock = clock_from_env()
    sock = _bind(host, port)
    gossip = _bind(host, gossip_port) if gossip_port >= 0 else None
    _log_to_stderr()
    try:
        asyncio.run(_serve(config, clock, sock, gossip, name, hops, lan=not no_lan,
                           public_url=public_url or _url(sock).rstrip("/"), workers=workers))
    finally:
        sock.close()
        if gossip is not None:
            gossip.close()


def _log_to_stderr() -> None:
    """weft's own log lines (purges, API failures) beside uvicorn's, in the same shape."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    root = logging.getLogger("weft")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


async def _serve(config: NodeConfig, clock: Callable[[], int], sock: socket.socket,
                 gossip_sock: socket.socket | None, name: str, hops: int, *, lan: bool,
                 public_url: str, workers: int = 0) -> None:

    from starlette.routing import WebSocketRoute

    from weft import custody
    from weft.cli.worker import delivering
    from weft.node import Node
    from weft.site import Site
    from weft.sync.websocket import GOSSIP_PATH, gossip_endpoint

    async with Node.open(config, clock=clock) as node:
        site = Site.for_node(node, public_url)
        if not node.has_identity():
            did = await custody.init_identity(node, name)
            echo(f"created the operator identity {did} ({name}) in {config.data_dir}")
        did = node.local().did
        gossip_info = None
        routes: list[BaseRoute] = []
        async with contextlib.AsyncExitStack() as gossiping:
            if gossip_sock is not None:
                gossip_info, service = await _start_gossip(gossiping, node, gossip_sock, sock, hops, lan=lan)
                # The same replication through a WebSocket on the HTTP port, for peers behind
                # proxies that pass web traffic only.
                routes.append(WebSocketRoute(GOSSIP_PATH, gossip_endpoint(
                    service.serve_stream, signing_key=node.transport_key(), network_key=service.network_key)))
            try:
                routes = [*routes, *site_routes(site)]
                async with delivering(site, config, workers):   # federation's queues
                    await _serve_http(node, sock, did, gossip_info, routes, site)
            finally:
                await close_site(site)
    echo("stopped")


async def _start_gossip(stack: contextlib.AsyncExitStack, node: Node, gossip_sock: socket.socket,
                        http_sock: socket.socket, hops: int, *, lan: bool) -> tuple[dict[str, Any], SyncService]:
    """The listener, the scheduler that dials known peers, and (unless --no-lan) LAN discovery;
    stopped in the reverse order when serving ends."""
    from weft.sync.discovery import LanDiscovery
    from weft.sync.scheduler import PeerScheduler

    service = node.sync_service(hops=hops)  # one for all three: the scheduler sees every session
    server = await service.listen_on(gossip_sock)

    async def close_listener() -> None:
        server.close()
        # Hang up on peers ourselves, so that each connection's task ends instead of being
        # cancelled with the event loop (which asyncio reports as a traceback).
        for session in list(service.sessions):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.stream.connection.close(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
        await asyncio.sleep(0.05)  # let the handlers of those connections return

    stack.push_async_callback(close_listener)
    scheduler = PeerScheduler(node.db, service, node.clock)
    await scheduler.start()
    stack.push_async_callback(scheduler.stop)
    info = {"key": node.transport_key().did, "port": gossip_sock.getsockname()[1]}
    homes = asyncio.create_task(_learn_home_nodes_forever(node, scheduler, hops, info["key"]))

    async def stop_homes() -> None:
        homes.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await homes

    stack.push_async_callback(stop_homes)
    if lan:
        host = gossip_sock.getsockname()[0]
        discovery = LanDiscovery(node.db, node.clock, key=info["key"], gossip_port=info["port"],
                                 http_port=http_sock.getsockname()[1],
                                 interfaces=None if host in ("0.0.0.0", "::") else [host],
                                 on_peer=lambda _peer: scheduler.wake())
        try:
            await discovery.start()
        except OSError as exc:
            log.warning("LAN discovery is off: %s", exc)
        else:
            stack.push_async_callback(discovery.stop)
    return info, service


def site_routes(site: Site, environ: Mapping[str, str] = os.environ) -> list[BaseRoute]:
    """What a node hosting accounts serves beside the client API: federation's documents
    and inboxes and the web app (whose ``/`` comes last, after every more specific path).
    Equips the site for federation first (``federate``)."""
    from weft import web
    from weft.federation import discovery, documents, inbox

    federate(site, environ)
    return [*discovery.routes(site), *inbox.routes(site), *documents.routes(site), *web.routes(site)]


def federate(site: Site, environ: Mapping[str, str] = os.environ) -> Federation:
    """Give the site what federating needs, where it has none yet: its federation service
    (``site.federation``), a directory of Fediverse people (``site.directory``) and the
    remote media cache (``site.remote_media``); whoever made them closes them (``close_site``).
    Serving processes and ``weft worker`` alike."""
    from weft.federation.directory import ActorDirectory
    from weft.federation.media import remote_media_cache
    from weft.federation.service import Federation

    if site.federation is None:
        site.federation = Federation.for_site(site, environ)
    if site.directory is None:
        site.directory = ActorDirectory(site)
    if site.remote_media is None:
        site.remote_media = remote_media_cache(site.federation, environ)
    return site.federation


async def close_site(site: Site) -> None:
    """End what serving the site started: uploads being processed finish, federation's
    client closes (before the database does)."""
    if site.remote_media is not None:   # fetches in flight stop first (they use the rest)
        await site.remote_media.close()
    if "social" in site.__dict__:   # made on first use
        await site.social.close()
    if site.federation is not None:
        await site.federation.close()


async def _serve_http(node: Node, sock: socket.socket, did: str, gossip_info: dict[str, Any] | None,
                      routes: list[BaseRoute], site: Site) -> None:
    import uvicorn

    from weft.api import create_app

    app = create_app(node, gossip=gossip_info, extra_routes=routes, site=site)
    settings = uvicorn.Config(app, log_level="info", lifespan="off", server_header=False)

    def started() -> None:
        echo(f"weft serving {did} at {_url(sock)}")
        if gossip_info is not None:
            echo(f"gossip on port {gossip_info['port']}, key {gossip_info['key']}")

    server = _make_server(settings, started, site.social.events.close)
    purging = asyncio.create_task(_purge_forever(node))
    try:
        await server.serve(sockets=[sock])
    finally:
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging


async def _learn_home_nodes_forever(node: Node, scheduler: PeerScheduler, hops: int, own_key: str) -> None:
    """Home nodes named in the identity logs of whom we follow become peers to dial."""
    from weft.sync.homes import learn_home_nodes

    while True:
        try:
            if await learn_home_nodes(node.db, node.clock, hops=hops, own_key=own_key):
                scheduler.wake()
        except Exception:
            log.exception("reading home nodes from identity logs failed; trying again later")
        await asyncio.sleep(HOME_NODES_EVERY_S)


async def _purge(node: Node) -> None:
    """Drop the content of expired posts (reads hide them meanwhile anyway)."""
    try:
        purged = await node.purge_expired()
    except Exception:
        log.exception("purging expired posts failed; trying again later")
        return
    if purged:
        log.info("purged %d expired post(s)", purged)


async def _purge_forever(node: Node) -> None:
    while True:
        await asyncio.sleep(PURGE_EVERY_S)
        await _purge(node)


def _make_server(config: uvicorn.Config, on_started: Callable[[], None],
                 on_stopping: Callable[[], Awaitable[None]]) -> uvicorn.Server:
    """A uvicorn server that announces itself once it accepts connections, ends live streams
    (``on_stopping``) as it starts to stop, and, when a signal stops it, returns instead of
    raising the signal again (uvicorn re-raises it so that a bare ``uvicorn.run`` dies of it;
    we want a clean exit 0)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                on_started()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn waits for open responses to finish: live streams (which never do) end first.
            await on_stopping()
            await super().shutdown(sockets=sockets)

    return Server(config)
