"""One person's posts through the CLI: write, edit, react, reply, delete, expire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .program import out, weft


def feed(data: Path, **env: str) -> list[dict[str, Any]]:
    posts = weft("feed", "--json", data=data, env=env or None).json()
    assert isinstance(posts, list)
    return posts


def test_a_post_is_edited_liked_boosted_replied_to_and_deleted(alice_home: tuple[Path, str]) -> None:
    alice, did = alice_home
    first = out(weft("post", "hello #weft", data=alice))
    assert len(first) == 52

    # An id prefix names the post; the feed shows the edit and the counts.
    weft("edit", first[:8], "hello, edited", data=alice)
    weft("like", first[:10], data=alice)
    weft("boost", first, data=alice)
    reply = out(weft("post", "a reply", "--reply-to", first[:8], data=alice))
    posts = {post["id"]: post for post in feed(alice)}
    assert posts[first]["text"] == "hello, edited"
    assert posts[first]["edited_ts"] is not None
    assert (posts[first]["likes"], posts[first]["boosts"]) == (1, 1)
    assert posts[first]["author"] == did
    assert posts[reply]["reply_to"] == first

    rendered = weft("feed", data=alice).out
    assert "hello, edited" in rendered and did[:17] in rendered
    assert first[:10] in rendered and "edited" in rendered and f"reply to {first[:10]}" in rendered
    assert "♥ 1" in rendered and "⟲ 1" in rendered

    tree = weft("thread", reply[:8], data=alice).out
    assert tree.index("hello, edited") < tree.index("a reply")
    assert "└── " in tree  # the reply hangs under the post

    shown = weft("show", first[:8], "--json", data=alice).json()
    assert isinstance(shown, dict)
    assert [version["text"] for version in shown["history"]] == ["hello #weft", "hello, edited"]
    assert "hello #weft" in weft("show", first[:8], data=alice).out

    weft("delete", reply[:8], data=alice)
    ids = [post["id"] for post in feed(alice)]
    assert first in ids and reply not in ids


def test_an_ephemeral_post_is_gone_once_it_expires(alice_home: tuple[Path, str]) -> None:
    alice, _ = alice_home
    fleeting = out(weft("post", "gone soon", "--expires", "10s", data=alice))
    assert fleeting in [post["id"] for post in feed(alice)]
    # WEFT_CLOCK_OFFSET_MS moves this process's clock 20 s on: the post has expired.
    assert fleeting not in [post["id"] for post in feed(alice, WEFT_CLOCK_OFFSET_MS="20000")]
    shown = weft("show", fleeting, "--json", data=alice, env={"WEFT_CLOCK_OFFSET_MS": "20000"}).json()
    assert isinstance(shown, dict) and shown["content"] is None
    assert [version["text"] for version in shown["history"]] == [None]


def test_post_text_is_shown_as_written_not_as_markup_or_terminal_codes(
        alice_home: tuple[Path, str]) -> None:
    alice, _ = alice_home
    weft("post", "[bold]not bold[/bold] \x1b[31mnot red :key:", "--summary", "[i]cw[/i]", data=alice)
    rendered = weft("feed", data=alice).out
    assert "[bold]not bold[/bold]" in rendered and ":key:" in rendered and "CW: [i]cw[/i]" in rendered
    assert "\x1b" not in rendered


def test_profile_and_whoami_show_who_this_directory_is(alice_home: tuple[Path, str]) -> None:
    alice, did = alice_home
    weft("profile", "--name", "Alice A.", "--bio", "knits", data=alice)
    me = weft("whoami", "--json", data=alice).json()
    assert isinstance(me, dict)
    assert (me["did"], me["name"], me["bio"], me["device_name"]) == (did, "Alice A.", "knits", "alice-desktop")
    assert me["device"].startswith("did:key:z6Mk")
    assert "Alice A." in weft("whoami", data=alice).out
    assert "knits" in weft("profile", data=alice).out
