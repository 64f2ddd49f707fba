"""The node under test in bench_inbox: prepared in this process (alice, and her follows of the
senders, whose actors and keys the node fetches once), then served by ``weft serve`` in a
process of its own on 127.0.0.1, with federation on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import uvicorn

from bench.inbox_senders import Sender, get_request, load
from weft.config import NodeConfig
from weft.federation.service import Federation
from weft.node import Node
from weft.site import Site

__all__ = ["ServedNode", "environment", "free_port", "prepare", "serve_senders"]

PASSWORD: Final = "benchmark password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(senders: list[Sender]) -> dict[str, str]:
    """Federation on, over http to the senders' host names (all 127.0.0.1), no rate limits."""
    hosts = " ".join(f"{sender.host.split(':')[0]}=127.0.0.1" for sender in senders)
    return {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "ef" * 32, "WEFT_FEDERATION_ALLOW_PRIVATE": "1",
            "WEFT_FEDERATION_ALLOW_HTTP": "1", "WEFT_FEDERATION_HOSTS": hosts}


@asynccontextmanager
async def serve_senders(app: Any, port: int) -> AsyncIterator[None]:
    """The senders' server (bench.inbox_senders.SenderServer) on this process's loop."""
    class Quiet(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:   # Ctrl-C belongs to the benchmark
            yield

    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    server = Quiet(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the senders' server stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


async def prepare(config: NodeConfig, public_url: str, senders: list[Sender], env: dict[str, str]) -> None:
    """alice, and her follows of the senders: the node fetches each actor (and its key) once."""
    async with Node.open(config) as node:
        site = Site.for_node(node, public_url, environ=env)
        federation = site.federation = Federation.for_site(site, env)
        try:
            alice = await site.accounts.sign_up("alice", PASSWORD, by_admin=True)
            for sender in senders:
                actor = await federation.actors.actor(sender.iri)
                await site.social.following.relate(alice, actor.identity, "follow")
        finally:
            await federation.close()
            await site.social.close()


class ServedNode:
    """``weft serve`` on the prepared data, its log in a file shown when it fails."""

    def __init__(self, config: NodeConfig, port: int, env: dict[str, str], log: Path, *, workers: int = 0) -> None:
        self.port = port
        self.log = log
        # WEFT_BENCH_PROFILE=DIR runs the server under cProfile, its stats in DIR/serve-LABEL.prof.
        profile = os.environ.get("WEFT_BENCH_PROFILE")
        profiler = [sys.executable, "-m", "cProfile", "-o", str(Path(profile) / f"{log.stem}.prof")] if profile else []
        self.process = subprocess.Popen(
            [*profiler, str(Path(sys.executable).parent / "weft"), "serve", "--data", str(config.data_dir), "--port", str(port),
             "--gossip-port", "-1", "--no-lan", "--public-url", f"http://127.0.0.1:{port}", "--workers", str(workers)],
            env={**os.environ, **env, "WEFT_DATABASE_URL": config.database_url},
            stdout=log.open("wb"), stderr=subprocess.STDOUT)

    async def started(self) -> None:
        request = get_request(f"127.0.0.1:{self.port}", "/api/health")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weft serve stopped:\n{self.log.read_text()[-3000:]}")
            try:
                if (await load(self.port, [[request]])).statuses == {200: 1}:
                    return
            except (OSError, asyncio.IncompleteReadError):   # not listening yet, or starting up
                await asyncio.sleep(0.2)
        raise RuntimeError("weft serve did not start")

    def cpu_seconds(self) -> float:
        """CPU time the server process and its ``weft worker`` processes have used, all
        threads (Linux's /proc; 0 elsewhere)."""
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """CPU time of the server process, and of its workers."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return _cpu_seconds(pid), sum(_cpu_seconds(int(process)) for process in children)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
