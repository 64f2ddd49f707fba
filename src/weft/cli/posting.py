"""Writing and reading posts: post, edit, delete, like, boost, feed, thread, show.

Commands that write print the id of the entry they made, alone on stdout, so
scripts can capture it (``id=$(weft post hi)``). An ID argument is a full entry
id or a unique prefix of at least 6 characters.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weft.cli import render
from weft.cli._runtime import DataOption, JsonOption, console, echo, emit_json, with_node
from weft.cli.durations import parse_duration
from weft.core.ids import entry_id_text
from weft.errors import UsageError

if TYPE_CHECKING:
    from weft.node import Node
    from weft.store.queries import PostView

__all__ = ["boost", "delete", "edit", "feed", "like", "post", "show", "thread"]

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="Entry id, or a unique prefix of it (6+ characters).")]


def _require_text(text: str) -> None:
    if not text.strip():
        raise UsageError("the text is empty; say something")


class Visibility(StrEnum):
    """Who a post is for."""

    public = "public"
    unlisted = "unlisted"
    followers = "followers"
    direct = "direct"


def post(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to say. #words become tags.")],
    reply_to: Annotated[str | None, typer.Option("--reply-to", metavar="ID",
                                                 help="Post this as a reply to the post ID.")] = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", metavar="DURATION",
        help="Make the post ephemeral: it disappears after e.g. 30s, 10m, 1h, 2d, 1w.")] = None,
    visibility: Annotated[Visibility | None, typer.Option(
        "--visibility", case_sensitive=False, help="Who should see it (default public).")] = None,
    summary: Annotated[str | None, typer.Option(
        "--summary", metavar="CW", help="A content warning shown before the text.")] = None,
    data: DataOption = None,
) -> None:
    """Publish a post and print its id."""
    _require_text(text)
    expires_in = parse_duration(expires) if expires is not None else None

    async def work(node: Node) -> str:
        entry = await node.post(text, reply_to=reply_to, expires_in_ms=expires_in,
                                visibility=visibility.value if visibility else None, summary=summary)
        return entry.id_text

    echo(with_node(data, work))


def edit(
    entry: IdArgument,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The new text.")],
    data: DataOption = None,
) -> None:
    """Replace the text of one of your posts; the old version stays in its history."""
    _require_text(text)

    async def work(node: Node) -> str:
        return (await node.edit(entry, text)).id_text

    echo(with_node(data, work))


def delete(entry: IdArgument, data: DataOption = None) -> None:
    """Delete one of your posts: every honest node drops its content."""
    async def work(node: Node) -> str:
        return (await node.delete(entry)).id_text

    echo(with_node(data, work))


def _react(kind: str, entry: str, data: Path | None) -> None:
    async def work(node: Node) -> str:
        return (await node.react(kind, entry)).id_text

    echo(with_node(data, work))


def like(entry: IdArgument, data: DataOption = None) -> None:
    """Like a post: a signed entry, counted by every node that holds it."""
    _react("like", entry, data)


def boost(entry: IdArgument, data: DataOption = None) -> None:
    """Boost a post, so that your followers see it too."""
    _react("boost", entry, data)


def feed(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many posts to show.")] = 20,
    as_json: JsonOption = False,
    data: DataOption = None,
) -> None:
    """Your posts and those of the people you follow, newest first.

    Edits are applied; deleted and expired posts, and blocked or muted authors, are left out.
    """
    async def work(node: Node) -> tuple[list[PostView], int]:
        return await node.feed(limit=limit), node.clock()

    views, now = with_node(data, work)
    if as_json:
        emit_json([view.to_json() for view in views])
        return
    out = console()
    if not views:
        out.print("Nothing here yet. Write with 'weft post TEXT', or follow someone with 'weft follow DID'.",
                  style="dim", markup=False)
    for number, view in enumerate(views):
        if number:
            out.print()
        out.print(render.post(view, now))


def thread(entry: IdArgument, data: DataOption = None) -> None:
    """The conversation a post belongs to, as an indented tree."""
    async def work(node: Node) -> tuple[list[tuple[int, PostView]], str, int]:
        target = await node.resolve(entry)
        return await node.thread(entry), entry_id_text(target), node.clock()

    items, focus, now = with_node(data, work)
    console().print(render.thread(items, now, focus=focus))


def show(entry: IdArgument, as_json: JsonOption = False, data: DataOption = None) -> None:
    """Everything this node holds about one entry: header, content, counts, edit history."""
    async def work(node: Node) -> tuple[dict[str, Any], int]:
        return await node.show(entry), node.clock()

    detail, now = with_node(data, work)
    if as_json:
        emit_json(detail)
        return
    console().print(render.entry_detail(detail, now))
