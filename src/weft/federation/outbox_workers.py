"""The outbox's workers in one process: expanding the queue, delivering, and sweeping.

``weft serve`` starts them in its own process (``site.federation.outbox.start()``); ``weft
worker`` runs them alone, against PostgreSQL, as many processes on as many machines as
wanted (claims skip what another holds). The expander wakes when ingest commits (its
``Changes`` feed, which also hears other processes' commits within a second), and tells
the deliverer; without news both look again every second. Done deliveries are forgotten
after a day, failed ones after a week.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from weft.federation.delivery import Deliverer
from weft.federation.delivery_policy import GIVE_UP_AFTER_MS
from weft.federation.fetching import FetchClient
from weft.federation.outbound import load_activity
from weft.federation.outbox import ActivityLoader, ActorResolver, Expander
from weft.store import outbox as store

if TYPE_CHECKING:
    from weft.federation.service import Federation

__all__ = ["OutboxWorkers"]

log = logging.getLogger("weft.federation.outbox")

POLL_S: Final = 1.0
ERROR_PAUSE_S: Final = 5.0
SWEEP_EVERY_S: Final = 600.0
KEEP_DONE_MS: Final = 86_400_000
KEEP_FAILED_MS: Final = 7 * 86_400_000


class OutboxWorkers:
    """Expander, deliverer and sweeper of one process, as background tasks."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self.expander: Expander | None = None
        self.deliverer: Deliverer | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self, *, concurrency: int = 64, per_host: int = 4, client: FetchClient | None = None,
              clock: Callable[[], int] | None = None, load: ActivityLoader | None = None,
              resolve: ActorResolver | None = None) -> None:
        """Start delivering (``client``, ``clock``, ``load`` and ``resolve`` are for tests and
        benchmarks: by default the federation's client, the node's clock, the outbound mapping
        and the remote actors service)."""
        if self._tasks:
            return
        federation, node = self.federation, self.federation.site.node
        clock = clock or node.clock
        self.expander = Expander(node.db, federation.base_url, clock, load=load or load_activity,
                                 resolve=resolve or federation.actors.actor)
        self.deliverer = Deliverer(node.db, federation.keys, client or federation.client, clock,
                                   concurrency=concurrency, per_host=per_host)
        self._stop.clear()
        self._tasks = [self._spawn(self._expand_forever(self.expander, self.deliverer), "weft-outbox-expand"),
                       self._spawn(self.deliverer.run(self._stop), "weft-outbox-deliver"),
                       self._spawn(self._sweep_forever(), "weft-outbox-sweep")]

    def wake(self) -> None:
        if self.deliverer is not None:
            self.deliverer.wake()

    async def stop(self) -> None:
        """Stop taking work; deliveries in flight finish (for up to 10 s) and are settled."""
        if not self._tasks:
            return
        self._stop.set()
        expand, deliver, sweep = self._tasks
        for task in (expand, sweep):
            task.cancel()
        await asyncio.gather(expand, sweep, return_exceptions=True)
        with contextlib.suppress(Exception):
            await deliver
        self._tasks = []

    @staticmethod
    def _spawn(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.create_task(work, name=name)

    async def _expand_forever(self, expander: Expander, deliverer: Deliverer) -> None:
        with self.federation.site.node.ingest.changes() as changes:
            while True:
                try:
                    while await expander.expand_once():
                        deliverer.wake()
                except Exception:
                    log.exception("expanding the federation queue failed; trying again in %d s", ERROR_PAUSE_S)
                    await asyncio.sleep(ERROR_PAUSE_S)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_S):
                        await changes.next()

    async def _sweep_forever(self) -> None:
        db, clock = self.federation.site.node.db, self.federation.site.node.clock
        while True:
            try:
                now = clock()
                async with db.write() as conn:
                    forgotten = await store.sweep_finished(conn, done_before=now - KEEP_DONE_MS,
                                                           failed_before=now - KEEP_FAILED_MS)
                    given_up = await store.give_up_on_down_hosts(conn, now, now - GIVE_UP_AFTER_MS)
                if given_up:
                    log.warning("%d deliveries failed: their hosts stayed down for two days", given_up)
                if forgotten:
                    log.info("forgot %d settled deliveries", forgotten)
            except Exception:
                log.exception("sweeping settled deliveries failed; trying again later")
            await asyncio.sleep(SWEEP_EVERY_S)

