"""Run the benchmarks: ``python -m bench`` runs all of them, ``python -m bench NAME...`` some.

A benchmark is a module ``bench/bench_NAME.py`` with a ``run()`` function or coroutine
function. A full run starts with the machine's Ed25519 verify rates, the baseline the
other figures are bounded by. The figures of this run replace ``bench-results.json``.
A benchmark that raises is reported and the others still run; the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import pkgutil
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rich.console import Console

import bench
from bench.results import RESULTS_PATH, measure_verify_rates, record, save, start_run

_PREFIX = "bench_"
_console = Console(highlight=False, soft_wrap=True)


def available() -> list[str]:
    """Names (without the ``bench_`` prefix) of the benchmark modules, sorted."""
    return sorted(info.name.removeprefix(_PREFIX) for info in pkgutil.iter_modules(bench.__path__)
                  if info.name.startswith(_PREFIX))


def baseline() -> None:
    single, everywhere = measure_verify_rates()
    cores = os.cpu_count() or 1
    record("ed25519_verify_1_thread", single, "verify/s", None, "baseline")
    record(f"ed25519_verify_{cores}_threads", everywhere, "verify/s", None, "baseline")


def run_one(name: str) -> bool:
    """Import and run one benchmark; False if it failed (its traceback is printed)."""
    _console.rule(f"[bold]{name}")
    try:
        module: ModuleType = importlib.import_module(f"bench.{_PREFIX}{name}")
        entry: Callable[[], Any] | None = getattr(module, "run", None)
        if not callable(entry):
            _console.print(f"[yellow]bench/{_PREFIX}{name}.py has no run(); skipped")
            return True
        outcome = entry()
        if inspect.isawaitable(outcome):
            asyncio.run(_wait(outcome))
    except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
        _console.print_exception()
        _console.print(f"[red]{name} failed")
        return False
    return True


async def _wait(awaitable: Any) -> None:
    await awaitable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (bench/{_PREFIX}NAME.py); default: all")
    args = parser.parse_args(argv)
    names = [name.removeprefix(_PREFIX).removesuffix(".py") for name in args.names]
    known = available()
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are: {', '.join(known) or 'none'}")

    start_run()
    if not names:
        _console.rule("[bold]baseline")
        baseline()
    failed = [name for name in names or known if not run_one(name)]
    save()
    _console.print(f"figures written to {RESULTS_PATH}")
    if failed:
        _console.print(f"[red]failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
