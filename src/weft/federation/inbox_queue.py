"""The inbox queue: what the inbox verified waits here to be mapped and ingested.

    await federation.inbox_queue.add(body)     # the inbox, once the signature is verified

``add`` returns once the body is committed (one insert for all the deliveries that came
while the writer was busy), so a 202 means the activity is kept, as Mastodon's and
Takahe's inboxes mean it; a crash after that loses nothing (docs/decisions/0010-inbox-queue.md).
The drainer maps and ingests what waits, up to ``IN_FLIGHT`` activities at once, so that
ingest's batches and the mapping's grouped reads hold hundreds rather than the few that
senders waiting on their answers make:

- it claims due rows in the order they came (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  that several serving processes share the queue), leased for 5 minutes: rows a process
  held when it died are due again after that;
- activities about one thing (a post and its edit or delete, a like and its undo, a follow
  and its answer) are mapped one after another, in the order they came; the rest at once;
- an activity mapped is deleted from the queue, whatever became of it (the inbound
  mapping drops what it cannot use, with a note in the log); one whose mapping raised
  (the database away, a bug) is tried again after 30 s, 5 min, 1 h and 6 h, then kept as
  failed for a week;
- stopping, it lets the activities in flight finish for a while and gives back the rest.

It starts with the first delivery (``weft serve`` starts it at once, for what an earlier
run left), unless ``weft worker`` processes drain the queue instead (``weft serve --workers
N``): they look for rows four times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import orjson
from sqlalchemy import Connection

from weft.federation.activitystreams import ActivityStreamsError, ASObject, iri_of, parse_object
from weft.store import inbox_queue as store

if TYPE_CHECKING:
    from collections.abc import Callable

    from weft.federation.service import Federation

__all__ = ["IN_FLIGHT", "LEASE_MS", "InboxQueue", "order_key"]

log = logging.getLogger("weft.federation.inbox")

CLAIM: Final = 256                 # rows claimed at once
IN_FLIGHT: Final = 512             # activities being mapped at once
LEASE_MS: Final = 5 * 60_000
POLL_S: Final = 0.25               # other processes' rows, and retries, are looked for this often
BUSY: Final = 4                    # rows at one claim that make the drainer wait for more
LINGER_S: Final = 0.1             # after news of a delivery, how long more may come before claiming
ERROR_PAUSE_S: Final = 5.0
STOP_GRACE_S: Final = 10.0
RETRY_WAITS_MS: Final = (30_000, 5 * 60_000, 3_600_000, 6 * 3_600_000)
KEEP_FAILED_MS: Final = 7 * 86_400_000
SWEEP_EVERY_S: Final = 600.0

# Activities that concern an earlier thing, named by their object: they wait for what came
# before about the same thing.
_ABOUT_THEIR_OBJECT: Final = ("Create", "Update", "Delete", "Undo", "Accept", "Reject", "Move", "Add", "Remove")


def order_key(activity: ASObject) -> str:
    """What ``activity`` is about: activities with one key are mapped in the order they came."""
    if activity.has_type(*_ABOUT_THEIR_OBJECT) and activity.object:
        about = iri_of(activity.object[0])
        if about:
            return about
    return activity.id or (iri_of(activity.actor[0]) if activity.actor else None) or ""


@dataclass(frozen=True)
class _Mapped:
    row: store.QueuedActivity
    error: str | None = None       # the mapping raised: tried again later


class InboxQueue:
    """The inbox queue of one serving process (``site.federation.inbox_queue``)."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self._adding: list[tuple[bytes, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._kick = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}          # row id -> its mapping
        self._chains: dict[str, asyncio.Task[None]] = {}         # order key -> its latest mapping
        self._mapped: list[_Mapped] = []
        self._swept_at = 0.0
        self._here = True
        self._kept: store.QueueStore | None = None
        self._opening = asyncio.Lock()

    async def kept(self) -> store.QueueStore:
        """Where the queue is kept (weft.store.inbox_queue.open_queue), opened on first use."""
        if self._kept is None:
            async with self._opening:
                if self._kept is None:
                    self._kept = await store.open_queue(self.federation.site.node.db)
        return self._kept

    def _now(self) -> int:
        return self.federation.site.node.clock()

    # -- adding ------------------------------------------------------------------------

    async def add(self, body: bytes) -> None:
        """Keep ``body`` (a verified activity) in the queue; returns once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._adding.append((body, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_added(), name="weft-inbox-queue-add")
        await asyncio.shield(done)
        self.start()
        self._kick.set()

    async def _write_added(self) -> None:
        """One insert for everything added while the writer was busy."""
        while self._adding:
            taken: list[tuple[bytes, asyncio.Future[None]]] = []
            try:
                kept = await self.kept()
                taken, self._adding = self._adding, []
                await kept.add([body for body, _ in taken], self._now())
            except Exception as error:  # noqa: BLE001 - each waiting delivery is told, and answered 503
                if not taken:                          # the queue could not even be opened
                    taken, self._adding = self._adding, []
                for _, done in taken:
                    if not done.done():
                        done.set_exception(error)
                continue
            for _, done in taken:
                if not done.done():
                    done.set_result(None)

    # -- draining ----------------------------------------------------------------------

    def elsewhere(self) -> None:
        """Leave the draining to other processes (``weft worker``): this one only adds."""
        self._here = False

    def start(self) -> None:
        """Drain the queue in this process (once; ``close`` stops it)."""
        if self._runner is None and self._here:
            self._stop.clear()
            self._runner = asyncio.create_task(self._run(), name="weft-inbox-queue-drain")

    async def _run(self) -> None:
        busy = False
        while not self._stop.is_set():
            self._kick.clear()
            claimed: list[store.QueuedActivity] = []
            try:
                room = IN_FLIGHT - len(self._tasks)
                claimed = await self._settle_and_claim(min(room, CLAIM))
                for row in claimed:
                    self._begin(row)
                await self._sweep()
            except Exception:    # the database is away, or worse: what is claimed is leased
                log.exception("claiming or settling inbox activities failed; trying again in %d s", ERROR_PAUSE_S)
                await asyncio.sleep(ERROR_PAUSE_S)
                continue
            if len(claimed) == CLAIM and len(self._tasks) < IN_FLIGHT:
                continue                                   # there may be more due
            busy = len(claimed) >= BUSY or (busy and bool(claimed))
            try:
                async with asyncio.timeout(POLL_S):
                    await self._kick.wait()
            except TimeoutError:
                continue
            if busy:
                # Senders wait for their answers, so even a flood comes a few at a time: what
                # comes in the next moments is claimed with these, and mapped and ingested as
                # one batch. A quiet server maps each delivery at once.
                await asyncio.sleep(LINGER_S)

    async def _settle_and_claim(self, limit: int) -> list[store.QueuedActivity]:
        """Settle what was mapped, and claim up to ``limit`` more, in one transaction."""
        if limit <= 0 and not self._mapped:
            return []
        mapped, self._mapped = self._mapped, []
        settling, now = self._settling(mapped), self._now()

        def work(conn: Connection) -> list[store.QueuedActivity]:
            settling(conn)
            return store.claim_activities(conn, now, limit=limit, lease_ms=LEASE_MS)

        try:
            return await (await self.kept()).transaction(work)
        except BaseException:
            self._mapped[:0] = mapped          # settled with the next ones
            raise

    def _begin(self, row: store.QueuedActivity) -> None:
        try:
            document = orjson.loads(row.activity)
            if not isinstance(document, dict):
                raise ActivityStreamsError("not a JSON object")
            activity = parse_object(document)
        except (orjson.JSONDecodeError, ActivityStreamsError) as error:
            # The inbox read only its envelope: the sender's mistake, dropped as anything
            # the mapping cannot use is.
            log.info("inbox activity %d is not a readable activity: %s", row.id, error)
            self._mapped.append(_Mapped(row))
            return
        except Exception as error:
            # Our reader's bug, not the sender's: tried again later, and kept as failed in the
            # end, as a mapping that raises is; the rest of the batch goes on.
            log.exception("reading inbox activity %d failed", row.id)
            self._mapped.append(_Mapped(row, f"{type(error).__name__}: {error}"))
            return
        key = order_key(activity)
        before = self._chains.get(key)
        task = asyncio.create_task(self._map(row, activity, before), name=f"weft-inbox-{row.id}")
        self._tasks[row.id] = self._chains[key] = task

        def forget(_: asyncio.Task[None]) -> None:
            self._tasks.pop(row.id, None)
            if self._chains.get(key) is task:
                del self._chains[key]

        task.add_done_callback(forget)

    async def _map(self, row: store.QueuedActivity, activity: ASObject, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            received = await self.federation.inbound.receive(activity, via="signature")
        except Exception as error:
            log.exception("mapping inbox activity %d (%s) failed", row.id, (activity.id or "")[:200])
            self._mapped.append(_Mapped(row, f"{type(error).__name__}: {error}"))
        else:
            if received.note:
                actor = iri_of(activity.actor[0]) if activity.actor else ""
                log.info("%s from %s: %s", "/".join(activity.types), (actor or "")[:200], received.note)
            self._mapped.append(_Mapped(row))
        self._kick.set()

    def _settling(self, mapped: list[_Mapped]) -> Callable[[Connection], None]:
        """The statements that settle ``mapped`` (for one transaction with others)."""
        now = self._now()
        done: list[int] = []
        retries: list[store.Retry] = []
        failed: dict[int, str] = {}
        for outcome in mapped:
            row = outcome.row
            if outcome.error is None:
                done.append(row.id)
            elif row.attempts >= len(RETRY_WAITS_MS):
                failed[row.id] = outcome.error
                log.error("inbox activity %d given up after %d attempts: %s", row.id, row.attempts + 1,
                          outcome.error[:500])
            else:
                retries.append(store.Retry(row.id, now + RETRY_WAITS_MS[row.attempts], outcome.error))
        return lambda conn: store.settle_activities(conn, done, retries, failed, now)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._swept_at < SWEEP_EVERY_S:
            return
        self._swept_at = loop.time()
        before = self._now() - KEEP_FAILED_MS
        swept = await (await self.kept()).transaction(lambda conn: store.sweep_failed(conn, before))
        if swept:
            log.info("forgot %d inbox activities that failed more than a week ago", swept)

    # -- stopping, waiting -------------------------------------------------------------

    async def close(self) -> None:
        """Stop claiming; what is being mapped finishes (for up to 10 s) or is given back."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
        if self._runner is None:
            await self._close_kept()
            return
        self._stop.set()
        self._kick.set()
        with contextlib.suppress(Exception):
            await self._runner
        self._runner = None
        held = dict(self._tasks)
        if held:
            _, pending = await asyncio.wait(set(held.values()), timeout=STOP_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        mapped, self._mapped = self._mapped, []
        unfinished = sorted(set(held) - {outcome.row.id for outcome in mapped})
        settling, now = self._settling(mapped), self._now()

        def work(conn: Connection) -> None:
            settling(conn)
            store.release_activities(conn, unfinished, now)

        try:
            await (await self.kept()).transaction(work)
        except Exception:   # the leases bring them back
            log.exception("settling the inbox queue while stopping failed")
        await self._close_kept()

    async def _close_kept(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            await kept.close()

    async def counts(self) -> dict[str, int]:
        """Activities ``waiting`` in the queue and ``failed`` (kept a week)."""
        return await (await self.kept()).transaction(store.counts)

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until everything added so far is mapped (tests; weft itself never waits)."""
        async with asyncio.timeout(timeout):
            while True:
                idle = not self._adding and not self._tasks and not self._mapped and \
                    (self._writer is None or self._writer.done())
                if idle and (await self.counts())["waiting"] == 0:
                    return
                await asyncio.sleep(0.01)
