"""Rate limits on what strangers can make a node do often: log in, sign up, post.

A token bucket per key (an IP address, an account id): ``capacity`` tokens, refilled at
``capacity`` per ``per_seconds``, so a key may spend a burst of ``capacity`` at once and then
keeps to the average rate. Each :meth:`RateLimiter.check` takes one token or says how long
until one is free.

Pure logic: the clock is passed in (seconds, e.g. ``time.monotonic``), so tests move time
instead of sleeping. Memory is bounded: a bucket that has refilled is the same as no bucket
and is dropped, and beyond ``max_keys`` the least recently used key is forgotten (which lets
that key start afresh: bounded memory is worth more than exactness under a flood of keys).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable

from weft.errors import UsageError, WeftError

__all__ = ["RateLimited", "RateLimiter", "limit"]

# Waiting exactly the time check() returned must succeed, though float rounding (of the
# caller's `now + wait`, and of ours) may leave the bucket a hair short of a whole token: a
# token due within a few units in the last place of the clock reading, or a nanosecond,
# counts as there.
_SLACK_ULPS = 4
_SLACK_S = 1e-9


class RateLimited(WeftError):
    """Too many attempts from one key; ``retry_after`` is how many seconds until the next
    one is allowed (HTTP faces answer 429 with ``Retry-After: retry_after_seconds``)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many attempts; try again in {self.retry_after_seconds} s")

    @property
    def retry_after_seconds(self) -> int:
        """``retry_after`` rounded up to whole seconds, as a Retry-After header carries it."""
        return max(1, math.ceil(self.retry_after))


class RateLimiter:
    """Token buckets per key; see the module docstring."""

    def __init__(self, capacity: int, per_seconds: float, clock: Callable[[], float],
                 max_keys: int = 100_000) -> None:
        if capacity < 1:
            raise UsageError(f"a rate limit of {capacity} per period allows nothing")
        if not per_seconds > 0 or math.isinf(per_seconds):
            raise UsageError(f"a rate limit period of {per_seconds} s is not a positive duration")
        if max_keys < 1:
            raise UsageError(f"a rate limiter must remember at least one key, not {max_keys}")
        self.capacity = capacity
        self.per_seconds = per_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._rate = capacity / per_seconds  # tokens per second
        # key -> (tokens left, when they were counted), least recently used first.
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def check(self, key: Hashable) -> float:
        """0.0 if ``key`` may go ahead now (a token is taken), else the seconds until it may
        (nothing is taken, so retrying too early does not push the wait further out)."""
        now = self._clock()
        self._forget_full_buckets(now)
        tokens = self._tokens(key, now)
        wait = max(1 - tokens, 0.0) / self._rate
        if wait <= _SLACK_ULPS * math.ulp(now) + _SLACK_S:
            tokens = max(tokens - 1, 0.0)
            wait = 0.0
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        """How many keys are remembered (the others have a full bucket)."""
        return len(self._buckets)

    def _tokens(self, key: Hashable, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.capacity)
        tokens, counted_at = bucket
        # A clock that steps back (a wall clock being set) refills nothing rather than
        # taking tokens away.
        elapsed = max(now - counted_at, 0.0)
        return min(tokens + elapsed * self._rate, float(self.capacity))

    def _forget_full_buckets(self, now: float) -> None:
        # Buckets are kept in the order they were last counted, and a bucket untouched for
        # per_seconds has refilled from empty: drop those from the front, a few per check.
        while self._buckets:
            _, counted_at = next(iter(self._buckets.values()))
            if now - counted_at < self.per_seconds:
                break
            self._buckets.popitem(last=False)


def limit(limiter: RateLimiter, key: Hashable) -> None:
    """Take a token for ``key`` or raise :class:`RateLimited` saying when to come back."""
    wait = limiter.check(key)
    if wait > 0:
        raise RateLimited(wait)
