"""``weft sync`` and ``weft peers`` between two real ``weft serve`` processes on loopback."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .program import out, weft
from .test_serve import serve, stop


def test_sync_brings_a_followed_post_and_remembers_the_peer(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    alice = out(weft("init", "--name", "Alice", data=a))
    out(weft("init", "--name", "Bob", data=b))
    post = out(weft("post", "over the secret handshake", data=a))
    weft("follow", alice, data=b)
    process, url, _ = serve(a)
    try:
        address = url.removeprefix("http://").rstrip("/")
        synced = weft("sync", address, "--json", data=b).json()
        assert isinstance(synced, dict) and synced["stored"] >= 2  # Alice's identity log, profile, post
        feed = weft("feed", "--json", data=b).json()
        assert isinstance(feed, list) and [item["id"] for item in feed] == [post]
        peers = weft("peers", "list", "--json", data=b).json()
        assert isinstance(peers, list) and len(peers) == 1
        assert peers[0]["state"] == "ok" and peers[0]["key"].startswith("did:key:z6Mk")
        again = weft("sync", address, "--json", data=b).json()
        assert isinstance(again, dict) and again["received"] == 0
    finally:
        stop(process, signal.SIGTERM)


def test_bad_and_unreachable_addresses_are_one_line_errors(tmp_path: Path) -> None:
    b = tmp_path / "b"
    out(weft("init", "--name", "Bob", data=b))
    bad = weft("sync", "not-an-address", data=b, ok=False)
    assert bad.code == 2 and bad.err.startswith("error: 'not-an-address' is not a peer address")
    gone = weft("sync", "127.0.0.1:9~did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", data=b, ok=False)
    assert gone.code == 1 and gone.err.count("\n") == 1 and "Traceback" not in gone.err
    [peer] = weft("peers", "list", "--json", data=b).json()  # type: ignore[misc]
    assert peer["state"] == "failing" and peer["failures"] == 1 and peer["last_error"]


def test_two_nodes_on_a_lan_find_each_other_and_a_post_arrives_within_seconds(tmp_path: Path) -> None:
    # Nobody adds a peer: each node advertises itself over mDNS (on loopback here) and dials
    # what it finds; the follow makes each want the other's posts.
    a, b = tmp_path / "a", tmp_path / "b"
    alice = out(weft("init", "--name", "Alice", data=a))
    bob = out(weft("init", "--name", "Bob", data=b))
    weft("follow", bob, data=a)
    weft("follow", alice, data=b)
    first, _, _ = serve(a, "--lan")
    second, _, _ = serve(b, "--lan")
    try:
        post = out(weft("post", "found you on the LAN", data=a))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            feed = weft("feed", "--json", data=b).json()
            if isinstance(feed, list) and [item["id"] for item in feed] == [post]:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the post did not reach the other node: {weft('peers', 'list', data=b).out}")
    finally:
        stop(first, signal.SIGTERM)
        stop(second, signal.SIGTERM)


def test_sync_through_a_websocket_on_the_web_port(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    alice = out(weft("init", "--name", "Alice", data=a))
    out(weft("init", "--name", "Bob", data=b))
    post = out(weft("post", "through the web port", data=a))
    weft("follow", alice, data=b)
    process, url, _ = serve(a)
    try:
        synced = weft("sync", "ws://" + url.removeprefix("http://").rstrip("/"), "--json", data=b).json()
        assert isinstance(synced, dict) and synced["peer"].startswith("ws://")
        feed = weft("feed", "--json", data=b).json()
        assert isinstance(feed, list) and [item["id"] for item in feed] == [post]
    finally:
        stop(process, signal.SIGTERM)


def test_two_devices_of_one_identity_sync_and_show_as_one_author(tmp_path: Path) -> None:
    phone, laptop, friend = tmp_path / "phone", tmp_path / "laptop", tmp_path / "friend"
    me = out(weft("init", "--name", "Dana", data=phone))
    weft("device", "add", "laptop", "--out", str(tmp_path / "laptop.pack"), data=phone)
    weft("device", "join", str(tmp_path / "laptop.pack"), data=laptop)
    out(weft("init", "--name", "Eli", data=friend))
    weft("follow", me, data=friend)
    from_phone = out(weft("post", "written on the phone", data=phone))
    from_laptop = out(weft("post", "written on the laptop", data=laptop))
    process, url, _ = serve(phone)
    try:
        address = url.removeprefix("http://").rstrip("/")
        weft("sync", address, data=laptop)   # the laptop and the phone exchange both logs
        weft("sync", address, data=friend)   # the friend gets both from the phone
    finally:
        stop(process, signal.SIGTERM)
    for data in (phone, laptop, friend):
        feed = weft("feed", "--json", data=data).json()
        assert isinstance(feed, list)
        assert {(item["id"], item["author"]) for item in feed} == {(from_phone, me), (from_laptop, me)}


def test_a_home_node_named_in_an_identity_log_is_dialled_by_followers(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    alice = out(weft("init", "--name", "Alice", data=a))
    out(weft("init", "--name", "Bob", data=b))
    home, url, _ = serve(a)
    try:
        weft("peers", "home", url.removeprefix("http://").rstrip("/"), data=a)
        # Bob learns Alice's identity log (with its home node) from an archive, and follows her;
        # nobody adds a peer and there is no LAN: his node dials her home node by itself.
        weft("export", str(tmp_path / "alice.weft"), data=a)
        weft("import", str(tmp_path / "alice.weft"), data=b)
        weft("follow", alice, data=b)
        follower, _, _ = serve(b)
        try:
            post = out(weft("post", "from my home node", data=a))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                feed = weft("feed", "--json", data=b).json()
                if isinstance(feed, list) and post in [item["id"] for item in feed]:
                    break
                time.sleep(0.3)
            else:
                pytest.fail(f"the post did not arrive: {weft('peers', 'list', data=b).out}")
            [peer] = weft("peers", "list", "--json", data=b).json()  # type: ignore[misc]
            assert peer["source"] == "home"
        finally:
            stop(follower, signal.SIGTERM)
    finally:
        stop(home, signal.SIGTERM)
