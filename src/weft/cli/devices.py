"""``weft device``: the devices of your identity, each with its own key and log.

Adding a device writes a pack file holding the new device's secret key and the
identity log; joining reads it in the new device's data directory. Move the
pack by a channel you trust and delete it afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weft.cli import render
from weft.cli._runtime import DataOption, JsonOption, console, echo, emit_json, note, with_node
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["app"]

app = typer.Typer(name="device", no_args_is_help=True, add_completion=False,
                  help="Add, join, list and revoke the devices of your identity.")


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="What to call the new device, e.g. laptop.")],
    out: Annotated[Path, typer.Option("--out", metavar="PACKFILE",
                                      help="Where to write the pack for the new device (must not exist).")],
    data: DataOption = None,
) -> None:
    """Authorize a new device, write its pack file and print its key."""
    from weft import custody

    if not name.strip():
        raise UsageError("the device name must not be empty")
    if out.exists():
        raise UsageError(f"{out} exists already; choose another path for the pack")

    async def work(node: Node) -> str:
        return await custody.add_device(node, name.strip(), out)

    key = with_node(data, work)
    echo(key)
    note(f"On the new device, run: weft device join {out} --data OTHERDIR\n"
         f"{out} holds the device's secret key: move it safely and delete it after joining.")


@app.command("join")
def join(
    pack: Annotated[Path, typer.Argument(metavar="PACKFILE", help="The pack written by 'weft device add'.")],
    data: DataOption = None,
) -> None:
    """Make this data directory the device a pack file names; prints the identity's DID."""
    from weft import custody

    async def work(node: Node) -> str:
        return await custody.join_device(node, pack)

    echo(with_node(data, work, needs_identity=False))
    note(f"Joined. Delete {pack} now: it holds this device's secret key.")


@app.command("list")
def list_(as_json: JsonOption = False, data: DataOption = None) -> None:
    """List the devices of your identity, active and revoked."""
    from weft import custody

    async def work(node: Node) -> list[dict[str, Any]]:
        return await custody.list_devices(node)

    devices = with_node(data, work)
    if as_json:
        emit_json(devices)
        return
    console().print(render.devices_table(devices))


@app.command("revoke")
def revoke(
    which: Annotated[str, typer.Argument(metavar="NAME_OR_KEY", help="The device's name or did:key.")],
    data: DataOption = None,
) -> None:
    """Revoke a device: entries it makes after the last one this node holds are refused."""
    from weft import custody

    async def work(node: Node) -> tuple[str, int]:
        return await custody.revoke_device(node, which)

    key, last = with_node(data, work)
    echo(key)
    note(f"Revoked after seq {last}: later entries from this device will be refused.")
