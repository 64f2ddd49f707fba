"""The hosted-account server under load: home timeline, posting, idle memory.

Setup (untimed, cached in ``.bench/``): the 1M-entry database of ``bench_feed`` (5,000
authors of 200 entries) copied into a data directory, and a hosted account ``viewer``
that follows 500 of the authors, signed up and following through the social service as
a person would. ``weft serve`` then runs it as a subprocess (one worker, rate limits off).

Timed, with ``wrk`` (one thread, 50 connections, keep-alive), in the same run:
- ``GET /api/v1/timelines/home?limit=40`` with the viewer's OAuth token (40 statuses, 500
  follows, 1M posts stored): requests per second and p99, held to 0.4 of
- ``GET /api/health``, the server's trivial JSON endpoint: the same server and client,
  so the ratio says what the timeline costs beyond HTTP and the framework.
- Posting: 20 connections ``POST /api/v1/statuses`` for 20 accounts on SQLite; statuses
  per second sustained (reported, no bound).
- RSS of the server process holding the 1M posts: idle after start-up and a first request,
  and again idle after the load; held to 150 MiB.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bench import bench_feed
from bench.corpus import CACHE_DIR
from bench.results import record
from weft.config import NodeConfig
from weft.node import Node
from weft.site import Site
from weft.store.database import sqlite_url
from weft.store.migrate import HEAD
from weft.store.schema import identities

FOLLOWS = 500
POSTERS = 20
CONNECTIONS = 50
SECONDS = 15
RATIO_BOUND = 0.4
RSS_BOUND_MIB = 150.0
PASSWORD = "benchmark password"
ENV = {**os.environ, "WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "42" * 32}


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install wrk)")
    return found


async def _prepare(data_dir: Path) -> None:
    """The feed benchmark's database in a data directory, with hosted accounts on it."""
    source = CACHE_DIR / f"feed-{bench_feed.SPEC.key()}-{HEAD}.db"
    if not source.with_suffix(".complete").exists():
        await bench_feed.build_database(source)
        source.with_suffix(".complete").touch()
    data_dir.mkdir(parents=True)
    shutil.copyfile(source, data_dir / "weft.db")
    config = NodeConfig(data_dir, sqlite_url(data_dir / "weft.db"))
    os.environ.update({"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": ENV["WEFT_NODE_SECRET"]})
    async with Node.open(config) as node:
        site = Site.for_node(node, "http://127.0.0.1", environ=ENV)
        viewer = await site.accounts.sign_up("viewer", PASSWORD, by_admin=True)
        async with node.db.read() as conn:
            authors = [row for (row,) in (await conn.execute(
                select(identities.c.id).where(identities.c.local.is_(False)).order_by(identities.c.id))).all()]
        for identity in authors[::10][:FOLLOWS]:
            await site.social.following.relate(viewer, identity, "follow")
        for number in range(POSTERS):
            await site.accounts.sign_up(f"poster{number}", PASSWORD, by_admin=True)
        await site.social.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``weft serve`` on a copy of the prepared data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "weft"), "serve", "--data", str(data_dir), "--port", str(self.port),
             "--gossip-port", "-1", "--no-lan"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("weft serve did not start")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found is not None
        return int(found.group(1)) / 1024

    def token(self, username: str) -> str:
        app = httpx.post(self.url + "/api/v1/apps", data={
            "client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"}).json()
        answer = httpx.post(self.url + "/oauth/token", data={
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": username, "password": PASSWORD, "scope": "read write"})
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _wrk_run(url: str, *, connections: int, script: str | None = None,
             headers: dict[str, str] | None = None) -> dict[str, float]:
    """wrk's requests per second, p99 latency (ms) and error count."""
    command = [_wrk(), "-t1", f"-c{connections}", f"-d{SECONDS}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {"rate": float(rate.group(1)), "p99_ms": float(p99.group(1)) * scale,
            "failed": float(bad.group(1)) if bad else 0.0, "timeouts": float(errors.group(1)) if errors else 0.0}


_POST_SCRIPT = """
tokens = {%s}
counter = 0
request = function()
  counter = counter + 1
  local body = "status=benchmark+post+" .. counter .. "+%%23bench&visibility=public"
  return wrk.format("POST", "/api/v1/statuses", {
    ["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def _measure(server: Server, work: Path) -> None:
    token = server.token("viewer")
    page = httpx.get(server.url + "/api/v1/timelines/home?limit=40", headers={"Authorization": f"Bearer {token}"},
                     timeout=30)
    page.raise_for_status()
    if len(page.json()) != 40:
        raise RuntimeError(f"the home timeline holds {len(page.json())} statuses, not 40")
    time.sleep(2)
    record("server_idle_rss_1m_posts", server.rss_mib(), "MiB", RSS_BOUND_MIB, "ratio <= 1")
    trivial = _wrk_run(server.url + "/api/health", connections=CONNECTIONS)
    home = _wrk_run(server.url + "/api/v1/timelines/home?limit=40", connections=CONNECTIONS,
                    headers={"Authorization": f"Bearer {token}"})
    if home["failed"] or home["timeouts"]:
        raise RuntimeError(f"home timeline requests failed: {home}")
    record("api_trivial_json_rps", trivial["rate"], "req/s", None, "baseline: same server, same client")
    record("api_trivial_json_p99", trivial["p99_ms"], "ms", None, "report")
    record("api_home_timeline_40_rps", home["rate"], "req/s", trivial["rate"], f"ratio >= {RATIO_BOUND}")
    record("api_home_timeline_40_p99", home["p99_ms"], "ms", None, "report (50 connections, one worker)")
    tokens = [server.token(f"poster{number}") for number in range(POSTERS)]
    script = work / "post.lua"
    script.write_text(_POST_SCRIPT % ", ".join(f'"{t}"' for t in tokens))
    posting = _wrk_run(server.url + "/api/v1/statuses", connections=POSTERS, script=str(script))
    if posting["failed"]:
        raise RuntimeError(f"{posting['failed']:.0f} posts were refused")
    record("api_post_status_20_clients_sqlite", posting["rate"], "statuses/s", None, "report")
    record("api_post_status_p99", posting["p99_ms"], "ms", None, "report")
    time.sleep(3)
    record("server_idle_rss_after_load", server.rss_mib(), "MiB", RSS_BOUND_MIB, "ratio <= 1")


async def _prepared() -> Path:
    prepared = CACHE_DIR / f"server-{bench_feed.SPEC.key()}-{HEAD}"
    if not (prepared / ".complete").exists():
        shutil.rmtree(prepared, ignore_errors=True)
        began = time.perf_counter()
        await _prepare(prepared)
        (prepared / ".complete").touch()
        print(f"prepared the server's data directory in {time.perf_counter() - began:.0f} s (setup)")
    return prepared


def run() -> None:
    _wrk()
    CACHE_DIR.mkdir(exist_ok=True)
    prepared = asyncio.run(_prepared())
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
        work = Path(scratch)
        data_dir = work / "data"
        shutil.copytree(prepared, data_dir)   # posting changes it: every run starts the same
        server = Server(data_dir)
        try:
            _measure(server, work)
        finally:
            server.stop()
