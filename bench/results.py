"""How every benchmark reports a figure, and the machine's baseline to compare figures with.

A figure is a value with a unit and, where the design promises one, a bound it is held to:
the ratio value/bound says how far a run is from it, and ``target`` says in words which
side of the bound is good (e.g. ``"ratio >= 1"`` for a throughput floor). Every figure of a
run is kept in order and written to ``bench-results.json`` at the repository root as a
JSON list; the file is rewritten after each figure, so an interrupted run keeps what it
measured.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypedDict

from nacl.bindings import crypto_sign_open
from nacl.signing import SigningKey
from rich.console import Console
from rich.markup import escape

__all__ = ["RESULTS_PATH", "Figure", "measure_verify_rates", "record", "save", "start_run"]

RESULTS_PATH = Path(__file__).resolve().parent.parent / "bench-results.json"

# About the size of a signed entry header.
_MESSAGE_BYTES = 300
# Iterations between clock reads in the verify loops, so reading the clock costs nothing.
_VERIFY_BATCH = 64


class Figure(TypedDict):
    name: str
    value: float
    unit: str
    bound: float | None
    ratio: float
    target: str


_console = Console(highlight=False, soft_wrap=True)
_figures: list[Figure] = []


def start_run() -> None:
    """Forget the figures of any earlier run (the file is rewritten at the next record or save)."""
    _figures.clear()


def record(name: str, value: float, unit: str, bound: float | None, target: str) -> Figure:
    """Print one figure and add it to the run; ratio is value/bound, or the value without a bound."""
    if bound == 0:
        raise ValueError(f"{name}: a bound of 0 gives no ratio; pass None for no bound")
    ratio = value if bound is None else value / bound
    figure: Figure = {"name": name, "value": value, "unit": unit, "bound": bound,
                      "ratio": ratio, "target": target}
    _figures.append(figure)
    bound_text = "none" if bound is None else f"{_number(bound)} {escape(unit)}"
    _console.print(f"[bold]{escape(name)}[/]: [cyan]{_number(value)}[/] {escape(unit)} "
                   f"(bound {bound_text}, ratio {_number(ratio)}, target {escape(target)})")
    save()
    return figure


def save(path: Path = RESULTS_PATH) -> None:
    """Write the run's figures so far, replacing the file whole (a reader never sees half of it)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(_figures, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def measure_verify_rates(seconds: float = 2.0) -> tuple[float, float]:
    """Ed25519 verifications per second on one thread, then on every core at once.

    This is the ceiling for anything that verifies entries, so benchmarks of ingest and
    replication use it as their bound. PyNaCl releases the GIL inside libsodium, so
    threads scale with cores.
    """
    key = SigningKey.generate()
    signed = bytes(key.sign(os.urandom(_MESSAGE_BYTES)))
    public = bytes(key.verify_key)
    single = _verify_for(signed, public, seconds, threads=1)
    everywhere = _verify_for(signed, public, seconds, threads=os.cpu_count() or 1)
    return single, everywhere


def _verify_for(signed: bytes, public: bytes, seconds: float, threads: int) -> float:
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def loop() -> int:
        start.wait()
        done = 0
        while time.perf_counter() < deadline:
            for _ in range(_VERIFY_BATCH):
                crypto_sign_open(signed, public)
            done += _VERIFY_BATCH
        return done

    with ThreadPoolExecutor(max_workers=threads) as pool:
        counts = [pool.submit(loop) for _ in range(threads)]
        began = time.perf_counter()
        deadline = began + seconds
        start.wait()
        total = sum(count.result() for count in counts)
        elapsed = time.perf_counter() - began
    return total / elapsed


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
