"""``weft keys``: the rotation keys that govern your identity.

The recovery key ranks highest: it can undo what lower-ranked keys did in the
last 72 hours and revoke lost devices. Export it, keep it offline, and let this
directory forget it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weft.cli._runtime import DataOption, echo, note, with_node
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["app"]

app = typer.Typer(name="keys", no_args_is_help=True, add_completion=False,
                  help="Rotate your rotation key, export the recovery key, recover with it.")


@app.command("rotate")
def rotate(data: DataOption = None) -> None:
    """Replace this directory's rotation key with a new one of the same rank; prints the new key."""
    from weft import custody

    async def work(node: Node) -> str:
        return await custody.rotate(node)

    echo(with_node(data, work))


@app.command("recovery-export")
def recovery_export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the recovery key (must not exist).")],
    forget: Annotated[bool, typer.Option(
        "--forget", help="Delete the recovery key from the data directory once FILE is written and read back.")] = False,
    data: DataOption = None,
) -> None:
    """Write the recovery key to FILE; prints its public key."""
    from weft import custody

    if file.exists():
        raise UsageError(f"{file} exists already; choose another path")

    async def work(node: Node) -> str:
        return custody.export_recovery(node, file, forget=forget)

    echo(with_node(data, work))
    note(f"Keep {file} offline: whoever holds it can take over your identity."
         + (" This directory no longer holds it." if forget else
            " This directory still holds a copy; add --forget to remove it."))


@app.command("recover")
def recover(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The recovery key file written by 'weft keys recovery-export'.")],
    undo: Annotated[int, typer.Option(
        "--undo", min=0, metavar="N",
        help="Also replace the last N identity operations (made by lower-ranked keys in the last 72 h).")] = 0,
    data: DataOption = None,
) -> None:
    """Take your identity back with the recovery key: revoke every other device and get a fresh rotation key."""
    from weft import custody

    async def work(node: Node) -> dict[str, Any]:
        return await custody.recover(node, file, undo=undo)

    result = with_node(data, work)
    echo(result["did"])
    for key in result["revoked"]:
        note(f"revoked {key}")
    if result["superseded"]:
        note(f"replaced {result['superseded']} identity operation(s)")
    note(f"new rotation key {result['rotation_key']}")
