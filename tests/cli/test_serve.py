"""``weft serve`` on loopback: the JSON API, the HTML page, the headers, and a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from .program import out, start, weft


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(data: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start ``weft serve`` and wait for the line with its URL: (process, URL, lines up to it)."""
    gossip = () if "--gossip-port" in args else ("--gossip-port", "0")  # never the shared default
    lan = () if "--lan" in args else ("--no-lan",)  # tests do not find each other unless they mean to
    args = tuple(arg for arg in args if arg != "--lan")
    process = start(("serve", "--port", str(free_port()), *gossip, *lan, *args), data, env)
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if " at http://" in line:
            return process, line.rsplit(" at ", 1)[1].strip(), lines
    process.kill()
    pytest.fail(f"weft serve exited early: {''.join(lines)} {process.communicate()[1]}", pytrace=False)


def stop(process: subprocess.Popen[str], how: signal.Signals) -> tuple[str, str]:
    process.send_signal(how)
    rest, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in rest + err, err
    return rest, err


def test_serve_answers_json_and_html_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "node"
    process, url, before = serve(data, "--name", "Opal")
    try:
        assert "created the operator identity" in before[0] and "(Opal)" in before[0]
        did = before[0].split()[4]
        post = out(weft("post", "<b>bold?</b> & more", data=data))
        private = out(weft("post", "between us", "--visibility", "direct", data=data))
        with httpx.Client(base_url=url, timeout=10) as client:
            me = client.get("/api/identity")
            assert me.status_code == 200 and me.headers["content-type"] == "application/json"
            body = me.json()
            assert body["did"] == did and body["profile"]["profile"]["name"] == "Opal"
            device = next(iter(body["state"]["devices"]))

            feed = client.get("/api/feed", params={"limit": 5}).json()
            assert [item["id"] for item in feed] == [post]
            entry = client.get(f"/api/entries/{post[:10]}").json()
            assert entry["content"]["text"] == "<b>bold?</b> & more"

            identity = client.get(f"/api/identities/{did}").json()
            assert identity["state"]["did"] == did and identity["ops"][0]["op"]["prev"] is None
            log = client.get(f"/api/logs/{device}", params={"after": 0, "limit": 5000}).json()
            assert [item["header"]["seq"] for item in log["entries"]] == [1, 2, 3]  # profile, posts
            assert log["entries"][1]["id"] == post

            page = client.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            # The web app's front page: the public posts of the people here, the operator's included.
            assert '<html lang="en">' in page.text and "<main" in page.text and "<h1>weft</h1>" in page.text
            assert "&lt;b&gt;bold?&lt;/b&gt; &amp; more" in page.text and "<b>bold?" not in page.text
            assert '<link rel="stylesheet" href="/static/weft.css">' in page.text
            # A stranger asks: only public posts show.
            assert "between us" not in page.text
            assert client.get(f"/api/entries/{private}").status_code == 404
            csp = page.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp

            for response in (me, page):
                assert response.headers["x-content-type-options"] == "nosniff"
                assert response.headers["referrer-policy"] == "no-referrer"

            for path, status in (("/api/entries/zzzzzzzz", 404), ("/api/entries/ab", 400),
                                 ("/api/identities/did:weft:nope", 400),
                                 ("/api/identities/did:weft:" + "a" * 48, 404),
                                 ("/api/logs/did:key:nonsense", 400), ("/api/feed?limit=many", 400),
                                 ("/nowhere", 404)):
                response = client.get(path)
                assert response.status_code == status, (path, response.text)
                assert set(response.json()) == {"error"}, path
                assert response.headers["x-content-type-options"] == "nosniff", path
    finally:
        if process.poll() is None:
            rest, _ = stop(process, signal.SIGINT)
    assert "stopped" in rest


def test_serve_purges_expired_posts_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "node"
    did = out(weft("init", "--name", "Pearl", data=data))
    fleeting = out(weft("post", "gone soon", "--expires", "10s", data=data))
    # 20 s later (by this server's clock) the post has expired, and opening the node purges it.
    process, _, before = serve(data, "--name", "ignored", env={"WEFT_CLOCK_OFFSET_MS": "20000"})
    assert len(before) == 1 and before[0].startswith(f"weft serving {did} at http://127.0.0.1:")
    _, err = stop(process, signal.SIGTERM)
    assert "Traceback" not in err
    # Even by the real clock, which has not reached the expiry, the content is gone now.
    shown = weft("show", fleeting, "--json", data=data).json()
    assert isinstance(shown, dict) and shown["content"] is None and shown["post"]["deleted"]


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = weft("serve", "--port", str(taken.getsockname()[1]), data=tmp_path / "node", ok=False)
    assert run.code == 2 and run.err.startswith("error: cannot listen on 127.0.0.1 port ")
    assert run.err.count("\n") == 1
