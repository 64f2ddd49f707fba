"""Running the real ``weft`` program in subprocesses, against data directories in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

_SCRIPT = Path(sys.executable).with_name("weft")
# The installed console script (what users run); ``python -m weft.cli`` where it is missing.
WEFT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "weft.cli"]
TIMEOUT_S = 60


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> object:
        return orjson.loads(self.out)

    def __str__(self) -> str:
        return f"weft {' '.join(self.args)} -> {self.code}\nstdout: {self.out}\nstderr: {self.err}"


def weft_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a weft subprocess: ours, minus anything that would pick another
    data directory or database, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("WEFT_HOME", "WEFT_DATABASE_URL", "WEFT_CLOCK_OFFSET_MS")}
    env.update(extra or {})
    return env


def start(args: Sequence[str], data: Path | None, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full = [*args, *(["--data", str(data)] if data is not None else [])]
    return subprocess.Popen([*WEFT, *full], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=weft_env(env))


def finish(args: Sequence[str], process: subprocess.Popen[str]) -> Run:
    out, err = process.communicate(timeout=TIMEOUT_S)
    return Run(tuple(args), process.returncode, out, err)


def weft(*args: str, data: Path | None, env: dict[str, str] | None = None, ok: bool = True) -> Run:
    """Run ``weft ARGS --data DATA``; with ``ok``, fail the test unless it exits 0."""
    run = finish(args, start(args, data, env))
    if ok and run.code != 0:
        pytest.fail(str(run), pytrace=False)
    assert "Traceback" not in run.out + run.err, str(run)
    return run


def weft_many(*calls: tuple[Sequence[str], Path | None]) -> list[Run]:
    """Run several weft commands at the same time (on different data directories)."""
    started = [(args, start(args, data)) for args, data in calls]
    runs = [finish(args, process) for args, process in started]
    for run in runs:
        if run.code != 0:
            pytest.fail(str(run), pytrace=False)
    return runs


def out(run: Run) -> str:
    return run.out.strip()
