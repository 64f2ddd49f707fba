"""Rate limits: token buckets per key, driven by a clock the tests move."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.errors import UsageError, WeftError
from weft.ratelimit import RateLimited, RateLimiter, limit


class Seconds:
    """A clock in seconds that moves only when the test moves it."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_up_to_capacity_then_one_per_interval() -> None:
    clock = Seconds()
    logins = RateLimiter(5, per_seconds=60, clock=clock)  # 5 a minute: one every 12 s
    assert [logins.check("203.0.113.7") for _ in range(5)] == [0.0] * 5
    assert logins.check("203.0.113.7") == pytest.approx(12.0)
    clock.advance(11.5)
    assert logins.check("203.0.113.7") == pytest.approx(0.5)
    clock.advance(0.5)
    assert logins.check("203.0.113.7") == 0.0
    assert logins.check("203.0.113.7") == pytest.approx(12.0)


def test_asking_too_early_does_not_push_the_wait_further_out() -> None:
    clock = Seconds()
    posts = RateLimiter(1, per_seconds=10, clock=clock)
    assert posts.check("did:weft:alice") == 0.0
    waits = []
    for _ in range(5):
        waits.append(posts.check("did:weft:alice"))
        clock.advance(1)
    assert waits == pytest.approx([10, 9, 8, 7, 6])
    clock.advance(5)
    assert posts.check("did:weft:alice") == 0.0


def test_keys_have_buckets_of_their_own() -> None:
    signups = RateLimiter(2, per_seconds=3600, clock=Seconds())
    assert signups.check("198.51.100.1") == signups.check("198.51.100.1") == 0.0
    assert signups.check("198.51.100.1") > 0
    assert signups.check("198.51.100.2") == 0.0


def test_an_idle_bucket_refills_only_to_capacity() -> None:
    clock = Seconds()
    limiter = RateLimiter(3, per_seconds=3, clock=clock)
    limiter.check("k")
    clock.advance(1_000)  # a long quiet time saves up no more than a burst
    assert [limiter.check("k") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert limiter.check("k") > 0


def test_beyond_max_keys_the_least_recently_used_is_forgotten() -> None:
    clock = Seconds()
    limiter = RateLimiter(1, per_seconds=60, clock=clock, max_keys=2)
    for key in ("a", "b", "a", "c"):  # "a" is used again after "b", so "b" goes first
        limiter.check(key)
    assert len(limiter) == 2
    assert limiter.check("a") > 0 and limiter.check("c") > 0  # still remembered, still empty
    assert limiter.check("b") == 0.0  # forgotten: it starts afresh


def test_refilled_buckets_are_forgotten() -> None:
    clock = Seconds()
    limiter = RateLimiter(2, per_seconds=10, clock=clock)
    for key in range(100):
        limiter.check(key)
    assert len(limiter) == 100
    clock.advance(10)  # every bucket is full again: remembering them would change nothing
    assert limiter.check("someone else") == 0.0
    assert len(limiter) == 1


def test_limit_raises_with_the_time_to_wait() -> None:
    clock = Seconds()
    limiter = RateLimiter(1, per_seconds=2.5, clock=clock)
    limit(limiter, "k")
    with pytest.raises(RateLimited) as refused:
        limit(limiter, "k")
    assert isinstance(refused.value, WeftError)
    assert refused.value.retry_after == pytest.approx(2.5)
    assert refused.value.retry_after_seconds == 3
    assert str(refused.value) == "too many attempts; try again in 3 s"
    clock.advance(2.5)
    limit(limiter, "k")


def test_a_wait_under_a_second_is_still_one_second_in_a_header() -> None:
    assert RateLimited(0.01).retry_after_seconds == 1


@pytest.mark.parametrize(("capacity", "per_seconds", "max_keys"), [
    (0, 60, 10), (-1, 60, 10), (5, 0, 10), (5, -1, 10), (5, float("nan"), 10),
    (5, float("inf"), 10), (5, 60, 0),
])
def test_a_limit_that_makes_no_sense_is_refused(capacity: int, per_seconds: float,
                                                max_keys: int) -> None:
    with pytest.raises(UsageError):
        RateLimiter(capacity, per_seconds, Seconds(), max_keys=max_keys)


events = st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.sampled_from("abc")),
                  max_size=120)


@given(capacity=st.integers(1, 6), per_seconds=st.floats(0.5, 100), events=events)
def test_a_key_never_gets_more_than_capacity_plus_what_refilled(
        capacity: int, per_seconds: float, events: list[tuple[float, str]]) -> None:
    clock = Seconds()
    limiter = RateLimiter(capacity, per_seconds, clock)
    rate = capacity / per_seconds
    granted: dict[str, list[float]] = defaultdict(list)
    last_seen: dict[str, float] = {}
    for step, key in events:
        clock.advance(step)
        wait = limiter.check(key)
        assert wait >= 0
        idle = clock.now - last_seen.get(key, -float("inf"))
        if idle >= per_seconds:
            assert wait == 0.0  # a key quiet for a whole period has a full bucket
        if wait == 0.0:
            granted[key].append(clock.now)
        last_seen[key] = clock.now
    for times in granted.values():
        # Over every stretch of time between two grants, no more than a burst and what
        # refilled meanwhile (plus float rounding).
        for first in range(len(times)):
            for last in range(first, len(times)):
                elapsed = times[last] - times[first]
                assert last - first + 1 <= capacity + elapsed * rate + 1e-6


@given(capacity=st.integers(1, 6), per_seconds=st.floats(0.001, 1e6),
       early_tries=st.integers(0, 5), start=st.floats(0, 1e9))
def test_waiting_the_time_check_returned_is_always_enough(
        capacity: int, per_seconds: float, early_tries: int, start: float) -> None:
    clock = Seconds(start)
    limiter = RateLimiter(capacity, per_seconds, clock)
    for _ in range(capacity):
        assert limiter.check("k") == 0.0
    for _ in range(early_tries):
        clock.advance(limiter.check("k") / 2)
    wait = limiter.check("k")
    assert wait > 0
    clock.advance(wait)
    assert limiter.check("k") == 0.0
