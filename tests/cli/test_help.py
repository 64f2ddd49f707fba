"""Every command answers --help with a real description, and every leaf command takes --data.

The help of each registered command is asked for in-process (typer's CliRunner runs the
same click command the script runs, some 30 times faster than a subprocess each); the
installed script and ``python -m weft.cli`` are run for real.
"""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from weft.cli.app import app

from .program import WEFT, weft_env


def command_paths() -> dict[tuple[str, ...], bool]:
    """Every registered command, groups included (``device``, ``device add`` ...) -> is it a group."""
    paths: dict[tuple[str, ...], bool] = {(): True}
    for command in app.registered_commands:
        assert command.name, command
        paths[(command.name,)] = False
    for group in app.registered_groups:
        assert group.name and group.typer_instance, group
        paths[(group.name,)] = True
        for sub in group.typer_instance.registered_commands:
            assert sub.name, sub
            paths[(group.name, sub.name)] = False
    return paths


def test_every_command_has_help() -> None:
    paths = command_paths()
    assert {("post",), ("device", "join"), ("keys", "recovery-export"), ("serve",), ("export",)} <= set(paths)
    runner = CliRunner()
    for path, is_group in paths.items():
        result = runner.invoke(app, [*path, "--help"], prog_name="weft", env=weft_env())
        assert result.exit_code == 0, (path, result.output)
        out = result.stdout
        assert out.startswith(" ".join(("Usage: weft", *path))), (path, out)
        description = out.split("\n\n")[1].strip()
        assert len(description) > 15, (path, out)
        if not is_group:
            assert "--data DIR" in out and "WEFT_HOME" in out, (path, out)


def test_the_installed_script_and_python_dash_m_both_answer() -> None:
    for program in (WEFT, [sys.executable, "-m", "weft.cli"]):
        run = subprocess.run([*program, "--help"], capture_output=True, text=True, env=weft_env(),
                             timeout=60, check=False)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert "WEFT_CLOCK_OFFSET_MS" in run.stdout and "device" in run.stdout
