"""Durations as people type them (``30s``, ``10m``, ``1h30m``, ``2d``, ``1w``) and times as they read them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from weft.errors import UsageError

__all__ = ["format_age", "format_time", "parse_duration"]

_UNIT_MS: Final = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PART: Final = re.compile(r"(\d{1,9})([smhdw])")
_WHOLE: Final = re.compile(r"(?:\d{1,9}[smhdw])+")
MAX_MS: Final = 10 * 365 * 86_400_000


def parse_duration(text: str) -> int:
    """Milliseconds in ``text``: one or more number-unit pairs, units s, m, h, d, w."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(cleaned):
        raise UsageError(f"cannot read duration {text[:40]!r}: write it like 30s, 10m, 1h, 2d, 1w or 1h30m")
    total = sum(int(amount) * _UNIT_MS[unit] for amount, unit in _PART.findall(cleaned))
    if total <= 0:
        raise UsageError(f"duration {text[:40]!r} must be longer than zero")
    if total > MAX_MS:
        raise UsageError(f"duration {text[:40]!r} is longer than ten years")
    return total


def format_age(ts_ms: int, now_ms: int) -> str:
    """``ts_ms`` relative to ``now_ms``: ``just now``, ``5m ago``, ``3d ago``, ``in 2h``."""
    delta = (now_ms - ts_ms) // 1000
    future = delta < 0
    seconds = abs(delta)
    if seconds < 10 and not future:
        return "just now"
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size:
            amount = f"{seconds // size}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "now"


def format_time(ts_ms: int) -> str:
    """An absolute time in UTC, to the minute."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
