"""Durations as people type them, times as they read them."""

from __future__ import annotations

import pytest

from weft.cli.durations import format_age, format_time, parse_duration
from weft.errors import UsageError


@pytest.mark.parametrize(("text", "ms"), [
    ("30s", 30_000), ("10m", 600_000), ("1h", 3_600_000), ("2d", 172_800_000), ("1w", 604_800_000),
    ("1h30m", 5_400_000), (" 1H ", 3_600_000),
])
def test_durations_people_write(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "10", "10x", "m", "-1h", "1.5h", "0s", "0h0m", "99999w"])
def test_durations_that_make_no_sense(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_ages_and_times() -> None:
    now = 1_800_000_000_000
    assert format_age(now - 3_000, now) == "just now"
    assert format_age(now - 300_000, now) == "5m ago"
    assert format_age(now - 3 * 86_400_000, now) == "3d ago"
    assert format_age(now + 7_200_000, now) == "in 2h"
    assert format_age(now + 5_000, now) == "in 5s"
    assert format_time(now) == "2027-01-15 08:00 UTC"
