"""``weft export`` and ``weft import``: an identity's whole history as one verifiable file.

This is how posts move between nodes until replication exists: export on one
node, import on another, and follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weft.cli._runtime import DataOption, JsonOption, echo, emit_json, note, with_node
from weft.core.ids import parse_did

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["export", "import_"]


def export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the archive.")],
    did: Annotated[str | None, typer.Option(
        "--did", metavar="DID", help="Export another identity this node holds (default: yours).")] = None,
    as_json: JsonOption = False,
    data: DataOption = None,
) -> None:
    """Write an identity's log, device logs, content and images to FILE (deleted and expired content left out)."""
    from weft.archive import export_archive

    wanted = parse_did(did.strip()) if did is not None else None

    async def work(node: Node) -> dict[str, Any]:
        return await export_archive(node, file, wanted)

    result = with_node(data, work)
    if as_json:
        emit_json(result)
        return
    echo(f"exported {result['ops']} identity operation(s), {result['entries']} entries and "
         f"{result['blobs']} image(s) ({result['bytes']} bytes) of {result['identity']} to {result['path']}")
    if result["blobs_missing"]:
        note(f"{result['blobs_missing']} image(s) the posts name are not on this node and were left out")


def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An archive written by 'weft export'.")],
    as_json: JsonOption = False,
    data: DataOption = None,
) -> None:
    """Verify an archive, then add everything in it to this node (nothing is added unless all of it verifies)."""
    from weft.archive import import_archive

    async def work(node: Node) -> dict[str, Any]:
        return await import_archive(node, file)

    result = with_node(data, work, needs_identity=False)
    if as_json:
        emit_json(result)
        return
    echo(f"imported {result['identity']}: {result['new']} new, {result['duplicate']} already held, "
         f"{result['rejected']} refused; {result['blobs']} image(s), {result['blobs_new']} new")
    if result["rejected"]:
        note(f"first refusal: {result['first_rejection']}")
    if result["blobs_missing"]:
        note(f"{result['blobs_missing']} image(s) the posts name were not in the archive")
