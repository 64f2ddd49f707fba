"""How posts, threads, entries and devices look in a terminal.

Everything written by other people (post text, names, summaries) goes into
``rich.text.Text`` objects, never into markup strings, so that ``[bold]`` in a
post is shown as typed; terminal control characters are removed first, so a
post cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from weft.cli.durations import format_age, format_time

if TYPE_CHECKING:
    from weft.store.queries import PostView

__all__ = ["clean", "devices_table", "entry_detail", "post", "short_did", "short_id", "thread"]

# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that can
# make text read differently from what it is.
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ID_SHOWN: Final = 10


def clean(text: str) -> str:
    return _UNSAFE.sub("", text)


def short_did(did: str) -> str:
    """``did:weft:abcdefgh…``: enough to tell identities apart at a glance."""
    prefix, _, rest = did.rpartition(":")
    return f"{prefix}:{rest[:8]}…" if len(rest) > 8 else did


def short_id(entry_id: str) -> str:
    return entry_id[:ID_SHOWN]


def _byline(view: PostView, now_ms: int) -> Text:
    line = Text()
    line.append(clean(view.author_name or "(no name)"), style="bold")
    line.append(f" {short_did(view.author)}", style="dim")
    line.append(f" · {format_age(view.ts, now_ms)} · {format_time(view.ts)}", style="dim")
    return line


def _footer(view: PostView, now_ms: int) -> Text:
    parts = [f"id {short_id(view.id)}", f"♥ {view.likes}", f"⟲ {view.boosts}"]
    if view.edited_ts is not None:
        parts.append(f"edited {format_age(view.edited_ts, now_ms)}")
    if view.reply_to is not None:
        parts.append(f"reply to {short_id(view.reply_to)}")
    if view.visibility != "public":
        parts.append(view.visibility)
    if view.expires is not None and not view.deleted:
        parts.append(f"expires {format_age(view.expires, now_ms)}")
    return Text(" · ".join(parts), style="dim")


def _body(view: PostView) -> Text:
    if view.deleted:
        return Text("(deleted)", style="italic dim")
    body = Text()
    if view.summary:
        body.append(f"CW: {clean(view.summary)}\n", style="yellow")
    body.append(clean(view.text or ""))
    return body


def post(view: PostView, now_ms: int) -> RenderableType:
    """One post: byline, text, and a line of id, counts and markers."""
    return Group(_byline(view, now_ms), Padding(_body(view), (0, 0, 0, 2), expand=False), _footer(view, now_ms))


def thread(items: Iterable[tuple[int, PostView]], now_ms: int, *, focus: str | None = None) -> RenderableType:
    """A conversation as an indented tree; ``focus`` (an entry id) is marked."""
    tree = Tree(Text("thread", style="dim"), guide_style="dim")
    stack: list[Tree] = [tree]
    for depth, view in items:
        depth = min(depth, len(stack) - 1)
        del stack[depth + 1:]
        byline = _byline(view, now_ms)
        if view.id == focus:
            byline.append("  ◀", style="bold")
        stack.append(stack[depth].add(Group(byline, _body(view), _footer(view, now_ms))))
    return tree


def entry_detail(detail: dict[str, Any], now_ms: int) -> RenderableType:
    """``weft show``: the header fields, what the content is, and a post's versions."""
    header = detail["header"]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("id", detail["id"])
    for field in ("author", "device", "seq", "prev"):
        table.add_row(field, Text(str(header.get(field))))
    table.add_row("time", f"{format_time(header['ts'])} ({format_age(header['ts'], now_ms)})")
    if header.get("expires") is not None:
        table.add_row("expires", f"{format_time(header['expires'])} ({format_age(header['expires'], now_ms)})")
    content = detail.get("content")
    table.add_row("content", Text(clean(_describe(content)))
                  if content is not None else Text("not held (deleted, expired or not fetched)", style="dim"))
    parts: list[RenderableType] = [table]
    if "post" in detail:
        view = detail["post"]
        table.add_row("counts", f"♥ {view['likes']} · ⟲ {view['boosts']}")
        if view["reply_to"]:
            table.add_row("reply to", view["reply_to"])
        history = detail.get("history", [])
        if len(history) > 1:
            versions = Table("version", "time", "text", title="history", title_justify="left")
            for number, version in enumerate(history):
                versions.add_row(str(number), format_time(version["ts"]),
                                 Text(clean(version["text"] or "(not held)")))
            parts.append(versions)
    return Group(*parts)


def _describe(content: dict[str, Any]) -> str:
    kind = content.get("type", "?")
    if kind in ("post", "edit") and "text" in content:
        return f"{kind}: {content['text']}"
    if "target" in content:
        return f"{kind} {content['target']}"
    if kind == "profile":
        return "profile: " + ", ".join(f"{k}={v}" for k, v in sorted(content.items()) if k != "type")
    return str(kind)


def devices_table(devices: list[dict[str, Any]]) -> Table:
    """One row per device: its name over its key (never wrapped, so it can be copied whole)."""
    table = Table(title="devices", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("device", no_wrap=True)
    table.add_column("status", min_width=13)
    table.add_column("seq", justify="right")
    for device in devices:
        status = device["status"] + (" (forked!)" if device["forked"] else "")
        label = Text(clean(device["name"] or "(revoked)"), style="bold")
        if device["this"]:
            label.append(" (this device)", style="")
        label.append(f"\n{device['key']}", style="dim")
        table.add_row(label, Text(status), str(device["seq"]))
    return table
