"""Relations to other identities: follow, block and mute, and their undoing.

Each is a signed entry in your log, so your other devices and the nodes that
replicate you learn it too. Blocking also tells this node not to store or pass
on the blocked identity's data; muting only hides it from your feed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from weft.cli._runtime import DataOption, echo, with_node
from weft.core.ids import parse_did

if TYPE_CHECKING:
    from weft.node import Node

__all__ = ["COMMANDS"]

DidArgument = Annotated[str, typer.Argument(metavar="DID", help="An identity: did:weft: and 48 characters.")]


def _relate(kind: str, did: str, data: DataOption) -> None:
    target = parse_did(did.strip())  # before opening the node: a typo fails at once

    async def work(node: Node) -> str:
        return (await node.relate(kind, target)).id_text

    echo(with_node(data, work))


def follow(did: DidArgument, data: DataOption = None) -> None:
    """Follow an identity: its posts appear in your feed once this node holds them."""
    _relate("follow", did, data)


def unfollow(did: DidArgument, data: DataOption = None) -> None:
    """Stop following an identity."""
    _relate("unfollow", did, data)


def block(did: DidArgument, data: DataOption = None) -> None:
    """Block an identity: its posts are hidden, and this node stops storing and passing them on."""
    _relate("block", did, data)


def unblock(did: DidArgument, data: DataOption = None) -> None:
    """Undo a block: this node stores the identity's data again."""
    _relate("unblock", did, data)


def mute(did: DidArgument, data: DataOption = None) -> None:
    """Mute an identity: its posts are hidden from your feed, nothing else changes."""
    _relate("mute", did, data)


def unmute(did: DidArgument, data: DataOption = None) -> None:
    """Undo a mute: the identity's posts show in your feed again."""
    _relate("unmute", did, data)


COMMANDS: tuple[Callable[..., None], ...] = (follow, unfollow, block, unblock, mute, unmute)
