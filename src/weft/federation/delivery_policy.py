"""When to try a delivery again, when to give up, and when a host is down: pure rules.

- A retryable failure (the network, a 5xx, 408, 425, 429) is tried again after 30 s, then
  1 min, 2 min, … doubling up to 6 h between attempts, each wait shortened by up to a fifth
  at random (so that deliveries that failed together do not come back together), and never
  sooner than a Retry-After the server gave. A delivery that would be tried again more than
  two days after it was made has failed.
- 410 Gone ends it ('gone'); any other answer that will not change (another 4xx, a refused
  address, a redirect loop) fails it at once.
- Circuit breaker: after ``BREAKER_THRESHOLD`` failures in a row, a host is down for 1 min,
  then 2, 4, … up to 6 h each time it trips again; its deliveries wait meanwhile without
  counting attempts. One success makes it healthy again. Failures of deliveries that were in
  flight when it tripped count, but do not extend the period.

No I/O: times are milliseconds passed in, randomness is a float in [0, 1) passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from weft.federation.fetching_errors import FetchError

__all__ = [
    "BREAKER_BASE_MS", "BREAKER_CAP_MS", "BREAKER_THRESHOLD", "GIVE_UP_AFTER_MS", "RETRY_BASE_MS", "RETRY_CAP_MS",
    "Health", "Verdict", "after_failure", "breaker_ms", "counts_against_host", "retry_wait_ms", "verdict",
]

RETRY_BASE_MS: Final = 30_000
RETRY_CAP_MS: Final = 6 * 3_600_000
GIVE_UP_AFTER_MS: Final = 2 * 86_400_000
JITTER: Final = 0.2
BREAKER_THRESHOLD: Final = 5
BREAKER_BASE_MS: Final = 60_000
BREAKER_CAP_MS: Final = 6 * 3_600_000

Verdict = Literal["done", "retry", "gone", "failed"]


def _doubling(count: int, base_ms: int, cap_ms: int) -> int:
    # The exponent is bounded first: a host that failed for a year must not make a huge int.
    return min(cap_ms, base_ms << min(max(count, 1) - 1, 40))


def retry_wait_ms(attempts: int, random: float, retry_after_s: float | None = None) -> int:
    """The wait after the ``attempts``-th failed attempt (1 for the first)."""
    if not 0.0 <= random < 1.0:
        raise ValueError(f"random is in [0, 1) (got {random})")
    step = _doubling(attempts, RETRY_BASE_MS, RETRY_CAP_MS)
    wait = step - int(step * JITTER * random)
    if retry_after_s is not None and retry_after_s > 0:
        wait = max(wait, min(int(retry_after_s * 1000), RETRY_CAP_MS))
    return wait


def breaker_ms(trips: int) -> int:
    """How long a host is down when it trips for the ``trips``-th time since its last success."""
    return _doubling(trips, BREAKER_BASE_MS, BREAKER_CAP_MS)


def verdict(error: FetchError | None) -> Verdict:
    """What one attempt's outcome makes of a delivery (before the deadline is considered)."""
    if error is None:
        return "done"
    if error.gone:
        return "gone"
    return "retry" if error.retryable else "failed"


def counts_against_host(error: FetchError) -> bool:
    """Whether a failure says the host is in trouble (not: it answered, if only with "no")."""
    return error.retryable and error.status != 429


@dataclass(frozen=True)
class Health:
    """A host's record: failures in a row, times tripped since its last success, down until when."""

    failures: int = 0
    trips: int = 0
    down_until: int = 0


def after_failure(health: Health, now: int) -> Health:
    failures = health.failures + 1
    if failures >= BREAKER_THRESHOLD and health.down_until <= now:
        trips = health.trips + 1
        return Health(failures, trips, now + breaker_ms(trips))
    return Health(failures, health.trips, health.down_until)
