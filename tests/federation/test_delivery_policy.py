"""The delivery rules as plain values: backoff with jitter, Retry-After, verdicts, the breaker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.federation.delivery_policy import (
    BREAKER_CAP_MS,
    BREAKER_THRESHOLD,
    GIVE_UP_AFTER_MS,
    RETRY_BASE_MS,
    RETRY_CAP_MS,
    Health,
    after_failure,
    breaker_ms,
    counts_against_host,
    retry_wait_ms,
    verdict,
)
from weft.federation.fetching_errors import FetchError

URL = "https://remote.example/inbox"


def status(code: int, retry_after: float | None = None) -> FetchError:
    return FetchError("status", f"answered {code}", url=URL, status=code, retry_after=retry_after)


@given(st.integers(min_value=1, max_value=10_000), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_a_wait_doubles_from_30_s_to_6_h_and_jitter_takes_at_most_a_fifth(attempts: int, random: float) -> None:
    step = min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** min(attempts - 1, 40))
    wait = retry_wait_ms(attempts, random)
    assert step * 0.8 <= wait <= step <= RETRY_CAP_MS


def test_the_schedule_gives_a_dozen_tries_or_more_within_two_days() -> None:
    waits = [retry_wait_ms(n, 0.0) for n in range(1, 40)]
    assert waits[:4] == [30_000, 60_000, 120_000, 240_000]
    spent, tries = 0, 1
    for wait in waits:
        if spent + wait > GIVE_UP_AFTER_MS:
            break
        spent, tries = spent + wait, tries + 1
    assert 12 <= tries <= 20


@pytest.mark.parametrize(("retry_after", "expected"), [
    (None, 30_000), (0, 30_000), (10, 30_000), (600, 600_000), (10 ** 9, RETRY_CAP_MS)])
def test_retry_after_is_honoured_up_to_the_cap(retry_after: float | None, expected: int) -> None:
    assert retry_wait_ms(1, 0.0, retry_after) == expected


def test_random_must_be_in_the_unit_interval() -> None:
    for bad in (-0.1, 1.0, 2.0):
        with pytest.raises(ValueError):
            retry_wait_ms(1, bad)


@pytest.mark.parametrize(("error", "expected", "host_trouble"), [
    (None, "done", None),
    (status(410), "gone", False),
    (status(404), "failed", False),
    (status(401), "failed", False),
    (status(400), "failed", False),
    (status(500), "retry", True),
    (status(503), "retry", True),
    (status(408), "retry", True),
    (status(429), "retry", False),
    (FetchError("timeout", "slow", url=URL), "retry", True),
    (FetchError("connection", "refused", url=URL), "retry", True),
    (FetchError("refused-address", "private", url=URL), "failed", False),
    (FetchError("too-many-redirects", "loop", url=URL), "failed", False),
])
def test_what_an_answer_makes_of_a_delivery(error: FetchError | None, expected: str,
                                            host_trouble: bool | None) -> None:
    assert verdict(error) == expected
    if error is not None:
        assert counts_against_host(error) is host_trouble


def test_the_breaker_trips_after_five_failures_for_longer_each_time() -> None:
    health, now = Health(), 1_000_000
    for _ in range(BREAKER_THRESHOLD - 1):
        health = after_failure(health, now)
    assert health == Health(BREAKER_THRESHOLD - 1, 0, 0)
    health = after_failure(health, now)
    assert health == Health(BREAKER_THRESHOLD, 1, now + 60_000)
    # Failures of deliveries still in flight count, but do not extend the period.
    assert after_failure(health, now + 1) == Health(BREAKER_THRESHOLD + 1, 1, now + 60_000)
    later = now + 60_000
    assert after_failure(health, later) == Health(BREAKER_THRESHOLD + 1, 2, later + 120_000)
    assert [breaker_ms(n) for n in (1, 2, 3, 10, 1000)] == [60_000, 120_000, 240_000, BREAKER_CAP_MS, BREAKER_CAP_MS]
