"""``weft worker``: federation's background work in a process of its own, until stopped.

A worker maps what the inbox kept (weft.federation.inbox_queue) and, on PostgreSQL,
delivers the outbox. As many workers as wanted, on as many machines, share both queues:
each claims rows with ``FOR UPDATE SKIP LOCKED`` (on SQLite, its one writer at a time), so
nothing is done twice, and one that dies leaves its claims to the others once their lease
ends. On SQLite ``weft serve`` delivers the outbox itself. Each worker needs the data
directory's node secret (it signs as the hosted people, whose keys are sealed with it) and
the server's public URL (the ids of what it sends). ``weft serve --workers N`` starts N of
them, and leaves the inbox to them. SIGINT and SIGTERM stop it cleanly: work in flight
finishes first, for up to 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Final

import typer

from weft.cli._runtime import DataOption, clock_from_env, echo, node_config
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.config import NodeConfig
    from weft.site import Site

__all__ = ["delivering", "worker"]

STOP_WAIT_S: Final = 20.0     # a worker's own grace for deliveries in flight is 10 s
log = logging.getLogger("weft.worker")


def worker(
    public_url: Annotated[str, typer.Option(
        "--public-url", envvar="WEFT_PUBLIC_URL", metavar="URL",
        help="The address the server is reached at, as given to `weft serve` (the ids of "
             "what is delivered are made of it).")],
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=1, max=1000, help="Deliveries in flight at once (at most 4 to one host).")] = 64,
    data: DataOption = None,
) -> None:
    """Map what the inbox kept and, on PostgreSQL, deliver hosted people's activities to other servers, until Ctrl-C.

    Several workers share the work (on PostgreSQL, WEFT_DATABASE_URL, on several machines too).
    On SQLite `weft serve` delivers the outbox itself; workers there map the inbox, on cores
    of their own (`weft serve --workers N` starts them).
    """
    from weft.cli.serve import _log_to_stderr

    config = node_config(data)
    if not config.data_dir.is_dir():
        raise UsageError(f"no data directory at {config.data_dir}: a worker serves an existing node")
    _log_to_stderr()
    asyncio.run(_work(config, clock_from_env(), public_url.rstrip("/"), concurrency))


async def _work(config: NodeConfig, clock: Callable[[], int], public_url: str, concurrency: int) -> None:
    from weft.cli.serve import close_site, federate
    from weft.node import Node
    from weft.site import Site

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Node.open(config, clock=clock) as node:
            site = Site.for_node(node, public_url)
            federation = federate(site)
            try:
                federation.inbox_queue.start()
                if node.db.dialect == "postgresql":
                    federation.outbox.start(concurrency=concurrency)
                    echo(f"weft worker delivering for {public_url} ({node.db.dialect}, {concurrency} at once) "
                         f"and mapping its inbox")
                else:
                    echo(f"weft worker mapping the inbox of {public_url} ({node.db.dialect}; `weft serve` "
                         f"delivers the outbox)")
                await stop.wait()
            finally:
                await close_site(site)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    echo("stopped")


@contextlib.asynccontextmanager
async def delivering(site: Site, config: NodeConfig, workers: int) -> AsyncIterator[None]:
    """What ``weft serve --workers N`` runs beside the server while it serves (close_site
    stops what runs in this process). With N = 0, federation's queues in this process: the
    inbox's drainer (at once, for what an earlier run left) and the outbox's workers. With
    N > 0, N ``weft worker`` processes map the inbox, and deliver the outbox on PostgreSQL
    (on SQLite this process does, with the database's one writer); they are stopped with
    SIGTERM (and killed if they linger) when serving ends."""
    if site.federation is None:
        raise RuntimeError("the site has no federation service (weft.cli.serve.site_routes makes it)")
    postgresql = config.database_url.startswith("postgresql")
    if workers == 0:
        site.federation.inbox_queue.start()
    else:
        site.federation.inbox_queue.elsewhere()
    if workers == 0 or not postgresql:
        site.federation.outbox.start()
    if workers == 0:
        yield
        return
    env = {**os.environ, "WEFT_DATABASE_URL": config.database_url, "WEFT_HOME": str(config.data_dir)}
    args = ["-m", "weft.cli", "worker", "--data", str(config.data_dir), "--public-url", site.base_url]
    processes = [await asyncio.create_subprocess_exec(sys.executable, *args, env=env) for _ in range(workers)]
    try:
        yield
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT_S)
            except TimeoutError:
                log.warning("worker %d did not stop within %d s; killed", process.pid, STOP_WAIT_S)
                process.kill()
                await process.wait()
