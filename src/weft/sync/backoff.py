"""When to call a peer again: exponential backoff with jitter, as a pure function.

A peer that fails is tried again after 5 s, then 10 s, 20 s, … up to an hour. The jitter
takes up to a fifth off each wait, so that nodes that lost the same peer at the same moment
(it restarted, the Wi-Fi dropped) do not all call back in the same second. The randomness
is a parameter, so tests choose it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BACKOFF_BASE_MS", "BACKOFF_CAP_MS", "JITTER", "RECONNECT_MS", "backoff_ms", "reconnect_ms"]

BACKOFF_BASE_MS: Final = 5_000            # the wait after the first failure
BACKOFF_CAP_MS: Final = 60 * 60 * 1000    # no wait is longer than an hour
JITTER: Final = 0.2                       # up to this share of a wait is taken off at random
# A live session that ended cleanly means the peer hung up (it is shutting down or
# restarting): call back after a short wait, not at once.
RECONNECT_MS: Final = 10_000


def backoff_ms(failures: int, random: float, *, base_ms: int = BACKOFF_BASE_MS,
               cap_ms: int = BACKOFF_CAP_MS) -> int:
    """The wait after ``failures`` failures in a row (1 for the first), with ``random`` in [0, 1).

    ``base_ms · 2^(failures-1)``, capped at ``cap_ms``, minus up to ``JITTER`` of it: the cap
    is never passed, and every wait is at least 80 % of its step.
    """
    if failures < 1:
        raise ValueError(f"failures counts this one too, so it is at least 1 (got {failures})")
    if not 0.0 <= random < 1.0:
        raise ValueError(f"random is in [0, 1) (got {random})")
    # The exponent is bounded first: a peer that failed for a year must not make a huge int.
    step = min(cap_ms, base_ms << min(failures - 1, 40))
    return step - int(step * JITTER * random)


def reconnect_ms(random: float) -> int:
    """The wait before calling back a peer that ended a live session cleanly."""
    return backoff_ms(1, random, base_ms=RECONNECT_MS)
