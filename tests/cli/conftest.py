"""Fixtures of the CLI tests: people with their own data directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from .program import out, weft, weft_many


@pytest.fixture
def people(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Alice, Bob and Carol, each with their own data directory: name -> (dir, DID)."""
    dirs = {name: tmp_path / name for name in ("alice", "bob", "carol")}
    runs = weft_many(*((("init", "--name", name, "--device-name", f"{name}-desktop"), path)
                       for name, path in dirs.items()))
    return {name: (dirs[name], out(run)) for name, run in zip(dirs, runs, strict=True)}


@pytest.fixture(scope="module")
def alice_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One data directory with an identity, shared by a module's tests (each asserts only on
    what it wrote itself): (dir, DID)."""
    home = tmp_path_factory.mktemp("alice")
    return home, out(weft("init", "--name", "alice", "--device-name", "alice-desktop", data=home))
