"""The third-party shs1-test suites (npm ``shs1-test`` 1.1.1) pass against our handshake.

``shs1testserver EXE SEED`` plays 45 clients against our server executable, 25 of them
misbehaving (random or wrongly keyed msg1 and msg3), and checks every byte we write and
our exit codes; ``shs1testclient`` does the same to our client. The executables are
``tests/sync/shs1/server.py`` and ``client.py``, thin stdin/stdout loops around
``weft.sync.shs``. `make test` installs the suites into ./node_modules with ``npm ci``;
without node or without them these tests fail, saying so, rather than skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "node_modules" / ".bin"
EXECUTABLES = Path(__file__).resolve().parent / "shs1"
SEEDS = ["weft-1", "weft-2", "weft-3"]  # the suites draw every key and fault from the seed


def suite(name: str) -> Path:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: the shs1-test suites need node and npm. Install them, "
                    "then run `make test`, which installs shs1-test into ./node_modules.",
                    pytrace=False)
    path = SUITES / name
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make test`, which installs "
                    "shs1-test into ./node_modules with npm ci.", pytrace=False)
    return path


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("role", ["server", "client"])
def test_the_shs1_suite_passes(role: str, seed: str) -> None:
    # The executables start with `#!/usr/bin/env python3`: put this interpreter (the venv's)
    # first on PATH so that they import this checkout of weft.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([suite(f"shs1test{role}"), EXECUTABLES / f"{role}.py", seed],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                            check=False)
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"shs1test{role} failed with seed {seed}:\n{output}"
    assert f"Passed the {role} test suite" in result.stdout, output
