"""What every command shares: the ``--data`` option, the clock, and running work on a node.

A command describes its work as ``async def work(node) -> T`` and hands it to
:func:`with_node`, which opens the data directory, runs the work on a fresh
event loop and closes everything again. Errors are not handled here: they rise
to ``weft.cli.app.main``, which prints them as one line.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console

from weft.errors import NoIdentity, UsageError

if TYPE_CHECKING:
    from weft.config import NodeConfig
    from weft.node import Node

__all__ = ["DataOption", "JsonOption", "clock_from_env", "console", "echo", "emit_json",
           "node_config", "note", "with_node"]

T = TypeVar("T")

CLOCK_OFFSET_ENV = "WEFT_CLOCK_OFFSET_MS"

DataOption = Annotated[
    Path | None,
    typer.Option("--data", envvar="WEFT_HOME", metavar="DIR", show_default="./data",
                 help="Data directory of the node (keys, identity, SQLite database). "
                      "WEFT_DATABASE_URL=postgresql://... keeps the database in PostgreSQL instead."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a rendering for people.")]


def clock_from_env() -> Callable[[], int]:
    """The system clock, shifted by ``WEFT_CLOCK_OFFSET_MS`` when that is set (a testing aid)."""
    from weft.node import system_clock

    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not raw:
        return system_clock
    try:
        offset = int(raw)
    except ValueError:
        raise UsageError(f"{CLOCK_OFFSET_ENV} must be a whole number of milliseconds, not {raw[:40]!r}") from None
    return lambda: system_clock() + offset


def node_config(data: Path | None) -> NodeConfig:
    from weft.config import NodeConfig

    return NodeConfig.resolve(data)


def with_node(data: Path | None, work: Callable[[Node], Awaitable[T]], *, needs_identity: bool = True) -> T:
    """Open the node of ``data``, run ``work`` on it and return what it returns.

    With ``needs_identity`` (most commands), a data directory without an
    identity is an error before anything is created on disk.
    """
    from weft.node import Node

    config = node_config(data)
    if needs_identity and not config.data_dir.is_dir():
        raise NoIdentity(f"no identity in {config.data_dir}: run 'weft init --name NAME' first")
    clock = clock_from_env()

    async def run() -> T:
        async with Node.open(config, clock=clock) as node:
            if needs_identity:
                node.local()
            return await work(node)

    return asyncio.run(run())


def console(*, stderr: bool = False) -> Console:
    """A console for people. No markup, emoji codes or highlighting in plain strings, so text
    shows as written (``did:key:`` is not an emoji, ``[b]`` is not bold)."""
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False)


def echo(text: str) -> None:
    """One line for scripts (an id, a DID): plain stdout, never wrapped or styled."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def emit_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A hint for people on stderr, so that stdout stays a clean result."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
