"""weft's benchmarks: ``python -m bench`` (or ``make bench``) runs every ``bench/bench_*.py``.

A benchmark module defines ``run()``, a function or a coroutine function, and reports
each figure through :func:`bench.results.record`. Results go to ``bench-results.json``
at the repository root.
"""
