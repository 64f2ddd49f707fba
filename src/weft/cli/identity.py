"""Who this data directory is: init, whoami, profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from weft.cli._runtime import DataOption, JsonOption, console, echo, emit_json, note, with_node
from weft.cli.render import clean
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["init", "profile", "whoami"]


def init(
    name: Annotated[str, typer.Option("--name", help="Your display name (you can change it with 'weft profile').")],
    device_name: Annotated[str | None, typer.Option(
        "--device-name", help="What to call this device in your device list (default: the host name).")] = None,
    data: DataOption = None,
) -> None:
    """Create a new identity with this data directory as its first device, and print its DID."""
    from weft import custody

    if not name.strip():
        raise UsageError("--name must not be empty")

    async def work(node: Node) -> tuple[str, str]:
        did = await custody.init_identity(node, name.strip(), device_name)
        return did, str(node.keys.path("recovery"))

    did, recovery_path = with_node(data, work, needs_identity=False)
    echo(did)
    note(f"Your recovery key is in {recovery_path}. Copy it somewhere offline with "
         f"'weft keys recovery-export FILE --forget': it can take your identity back if a device is lost.")


async def _whoami(node: Node) -> dict[str, Any]:
    me = node.local()
    profile = await node.profile(me.did)
    return {
        "did": me.did, "device": me.device.did, "device_name": me.device_name,
        "name": profile["profile"].get("name"), "bio": profile["profile"].get("bio"),
        "posts": profile["posts"], "following": await node.relations("follow"),
        "followers": profile["followers"], "blocking": await node.relations("block"),
        "muting": await node.relations("mute"), "data_dir": str(node.config.data_dir),
    }


def whoami(as_json: JsonOption = False, data: DataOption = None) -> None:
    """Show this directory's identity, device and name, and whom it follows, blocks and mutes."""
    info = with_node(data, _whoami)
    if as_json:
        emit_json(info)
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("name", Text(clean(info["name"] or "(no name)")))
    table.add_row("did", info["did"])
    table.add_row("device", Text(f"{clean(info['device_name'])} {info['device']}"))
    table.add_row("posts", str(info["posts"]))
    table.add_row("following", str(len(info["following"])))
    table.add_row("followers", str(info["followers"]))
    if info["blocking"]:
        table.add_row("blocking", str(len(info["blocking"])))
    if info["muting"]:
        table.add_row("muting", str(len(info["muting"])))
    table.add_row("data", info["data_dir"])
    console().print(table)


def profile(
    name: Annotated[str | None, typer.Option("--name", help="A new display name.")] = None,
    bio: Annotated[str | None, typer.Option("--bio", help="A new short self-description.")] = None,
    as_json: JsonOption = False,
    data: DataOption = None,
) -> None:
    """Change your name or bio (printing the new entry's id), or, with neither option, show your profile."""
    if name is not None or bio is not None:
        if name is not None and not name.strip():
            raise UsageError("--name must not be empty")

        async def update(node: Node) -> str:
            return (await node.set_profile(name=name.strip() if name else None, bio=bio)).id_text

        echo(with_node(data, update))
        return

    async def read(node: Node) -> dict[str, Any]:
        return await node.profile()

    shown = with_node(data, read)
    if as_json:
        emit_json(shown)
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("name", Text(clean(str(shown["profile"].get("name") or "(no name)"))))
    table.add_row("bio", Text(clean(str(shown["profile"].get("bio") or ""))))
    table.add_row("did", shown["did"])
    table.add_row("posts", str(shown["posts"]))
    table.add_row("following", str(shown["following"]))
    table.add_row("followers", str(shown["followers"]))
    console().print(table)
