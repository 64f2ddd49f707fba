"""The streaming API over real HTTP and WebSocket on loopback: server-sent events read
with httpx, WebSockets with the ``websockets`` client, and Mastodon.py's stream_user,
stream_public and stream_hashtag with a StreamListener in a thread.

An event that must not come is shown absent by order: a later post is written, and the
next event must be that one (events come in the order they were committed).
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mastodon import Mastodon, StreamListener

from ..cli.program import weft
from ..cli.test_serve import serve as serve_command
from .conftest import PASSWORD
from .people import account_of, member, token
from .served import Served
from .test_timelines import jpeg

WAIT_S = 10.0   # events come within a second; this only bounds a failing test


class SSE:
    """An open stream of server-sent events, read as Mastodon clients read it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next(self) -> tuple[str, str]:
        """The next (event, data), heartbeats and other comments skipped."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if line.startswith(":"):
                continue
            if not line:
                if fields:
                    return fields["event"], fields.get("data", "")
                continue
            key, _, value = line.partition(": ")
            fields[key] = value
        raise AssertionError("the stream ended")

    def update(self) -> dict[str, Any]:
        event, data = self.next()
        assert event == "update", (event, data)
        found: dict[str, Any] = json.loads(data)
        return found


@contextlib.contextmanager
def sse(client: httpx.Client, path: str, auth: dict[str, str], **params: str) -> Iterator[SSE]:
    with client.stream("GET", path, headers=auth, params=params, timeout=WAIT_S) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SSE(response)


def ws_url(served: Served, query: str = "") -> str:
    return served.url.replace("http://", "ws://") + "/api/v1/streaming" + (f"?{query}" if query else "")


def receive(ws: ClientConnection) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ws.recv(timeout=WAIT_S))
    return found


def subscribe(ws: ClientConnection, stream: str, **extra: str) -> None:
    """Subscribe, and wait until it holds: the server answers messages in order, so the
    error for a nonsense message after the subscription means the subscription is in place."""
    ws.send(json.dumps({"type": "subscribe", "stream": stream, **extra}))
    ws.send(json.dumps({"type": "nonsense"}))
    answer = receive(ws)
    assert answer["status"] == 400 and "subscribe" in answer["error"], answer


def bearer(auth: dict[str, str]) -> str:
    return auth["authorization"].removeprefix("Bearer ")


@pytest.fixture
def people(served: Served) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    """An HTTP client and tokens of alice, bob (who follows alice), carol and dave."""
    member(served, "carol")
    member(served, "dave")
    with httpx.Client(base_url=served.url, timeout=WAIT_S) as client:
        tokens = {name: token(client, name) for name in ("alice", "bob", "carol", "dave")}
        alice = account_of(served, "alice").identity
        assert client.post(f"/api/v1/accounts/{alice}/follow", headers=tokens["bob"]).status_code == 200
        yield client, tokens


def post(client: httpx.Client, auth: dict[str, str], text: str, **fields: str) -> dict[str, Any]:
    answer = client.post("/api/v1/statuses", headers=auth, data={"status": text, **fields})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_health_and_refusals(served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    health = client.get("/api/v1/streaming/health")
    assert health.status_code == 200 and health.text == "OK"
    assert client.get("/api/v1/streaming/user").status_code == 401
    assert client.get("/api/v1/streaming/public").status_code == 401   # a person's token, as Mastodon 4.2
    unknown = client.get("/api/v1/streaming/list", headers=tokens["bob"])
    assert unknown.status_code == 400 and unknown.json() == {"error": "Unknown channel requested"}
    assert client.get("/api/v1/streaming/hashtag", headers=tokens["bob"]).status_code == 422   # no tag
    writer = token(client, "bob", "write")
    assert client.get("/api/v1/streaming/public", headers=writer).status_code == 403
    statuses_only = token(client, "bob", "read:statuses")
    assert client.get("/api/v1/streaming/user/notification", headers=statuses_only).status_code == 403
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(served, "stream=user&access_token=nonsense"), open_timeout=WAIT_S)
    assert refused.value.response.status_code == 401


def test_a_post_comes_on_user_public_local_and_hashtag_streams(
        served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    with (sse(client, "/api/v1/streaming/user", tokens["bob"]) as home,
          sse(client, "/api/v1/streaming/public", tokens["carol"]) as public,
          sse(client, "/api/v1/streaming/public/local", tokens["carol"]) as local,
          sse(client, "/api/v1/streaming/hashtag", tokens["carol"], tag="Weft") as tagged,
          sse(client, "/api/v1/streaming/hashtag/local", tokens["carol"], tag="weft") as tagged_here,
          sse(client, "/api/v1/streaming/public", tokens["dave"], only_media="true") as media):
        posted = post(client, tokens["alice"], "hello #weft")
        for stream in (home, public, local, tagged, tagged_here):
            got = stream.update()
            assert got["id"] == posted["id"] and got["account"]["username"] == "alice"
            assert "hello" in got["content"] and got["visibility"] == "public"
        uploaded = client.post("/api/v1/media", headers=tokens["alice"], files={"file": ("a.jpg", jpeg(), "image/jpeg")})
        assert uploaded.status_code == 200, uploaded.text
        pictured = client.post("/api/v1/statuses", headers=tokens["alice"],
                               json={"status": "a picture", "media_ids": [uploaded.json()["id"]]})
        assert pictured.status_code == 200, pictured.text
        assert media.update()["id"] == pictured.json()["id"]   # the first post had no image
        assert public.update()["id"] == pictured.json()["id"]


def test_followers_only_and_direct_posts_come_only_to_whom_may_read_them(
        served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    dave = account_of(served, "dave").identity
    assert client.post(f"/api/v1/accounts/{account_of(served, 'alice').identity}/follow",
                       headers=tokens["dave"]).status_code == 200
    assert client.post(f"/api/v1/accounts/{dave}/follow", headers=tokens["carol"]).status_code == 200
    with (sse(client, "/api/v1/streaming/user", tokens["bob"]) as follower,
          sse(client, "/api/v1/streaming/public", tokens["bob"]) as follower_public,
          sse(client, "/api/v1/streaming/user", tokens["carol"]) as stranger,
          sse(client, "/api/v1/streaming/user", tokens["dave"]) as other_follower):
        private = post(client, tokens["alice"], "for followers", visibility="private")
        got = follower.update()
        assert got["id"] == private["id"] and got["visibility"] == "private"
        assert other_follower.update()["id"] == private["id"]
        direct = post(client, tokens["alice"], "@bob only you", visibility="direct")
        got = follower.update()
        assert got["id"] == direct["id"] and got["visibility"] == "direct"
        event, data = follower.next()
        assert event == "notification" and json.loads(data)["type"] == "mention"
        assert json.loads(data)["status"]["id"] == direct["id"]
        barrier = post(client, tokens["dave"], "public, afterwards")
        assert follower_public.update()["id"] == barrier["id"]    # not the private post
        assert stranger.update()["id"] == barrier["id"]           # neither of alice's
        assert other_follower.update()["id"] == barrier["id"]     # not the direct post


def test_websocket_events_edits_and_deletes(served: Served,
                                            people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    with connect(ws_url(served, f"stream=user&access_token={bearer(tokens['bob'])}"),
                 open_timeout=WAIT_S) as ws:
        subscribe(ws, "hashtag", tag="weft")
        posted = post(client, tokens["alice"], "first #weft")
        events = [receive(ws), receive(ws)]
        assert sorted(e["stream"][0] for e in events) == ["hashtag", "user"]
        hashtag = next(e for e in events if e["stream"][0] == "hashtag")
        assert hashtag["stream"] == ["hashtag", "weft"] and hashtag["event"] == "update"
        assert isinstance(hashtag["payload"], str) and json.loads(hashtag["payload"])["id"] == posted["id"]

        ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "weft"}))
        edited = client.put(f"/api/v1/statuses/{posted['id']}", headers=tokens["alice"],
                            data={"status": "second #weft"})
        assert edited.status_code == 200, edited.text
        change = receive(ws)
        assert change["stream"] == ["user"] and change["event"] == "status.update"
        assert "second" in json.loads(change["payload"])["content"]
        assert client.delete(f"/api/v1/statuses/{posted['id']}", headers=tokens["alice"]).status_code == 200
        assert receive(ws) == {"stream": ["user"], "event": "delete", "payload": posted["id"]}


def test_websocket_tokens_in_headers_and_subscriptions_by_message(
        served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    with (connect(ws_url(served), additional_headers=tokens["carol"], open_timeout=WAIT_S) as by_header,
          connect(ws_url(served), subprotocols=[bearer(tokens["dave"])], open_timeout=WAIT_S) as by_protocol):  # type: ignore[list-item]
        assert by_protocol.subprotocol == bearer(tokens["dave"])
        subscribe(by_header, "public:local")
        subscribe(by_protocol, "public")
        by_header.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        assert receive(by_header) == {"error": "unknown stream 'direct'", "status": 400}
        posted = post(client, tokens["alice"], "to everyone")
        for ws, name in ((by_header, "public:local"), (by_protocol, "public")):
            got = receive(ws)
            assert got["stream"] == [name] and json.loads(got["payload"])["id"] == posted["id"]


def test_a_muted_author_and_notifications_on_the_user_stream(
        served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    carol = account_of(served, "carol").identity
    assert client.post(f"/api/v1/accounts/{carol}/mute", headers=tokens["bob"]).status_code == 200
    with (connect(ws_url(served, "stream=public"), additional_headers=tokens["bob"], open_timeout=WAIT_S) as bob,
          connect(ws_url(served, "stream=user"), additional_headers=tokens["alice"], open_timeout=WAIT_S) as alice):
        post(client, tokens["carol"], "muted")
        barrier = post(client, tokens["alice"], "like this")
        assert json.loads(receive(bob)["payload"])["id"] == barrier["id"]
        assert json.loads(receive(alice)["payload"])["id"] == barrier["id"]
        assert client.post(f"/api/v1/statuses/{barrier['id']}/favourite", headers=tokens["bob"]).status_code == 200
        note = receive(alice)
        assert note["event"] == "notification" and note["stream"] == ["user"]
        body = json.loads(note["payload"])
        assert body["type"] == "favourite" and body["account"]["username"] == "bob"
        assert body["status"]["id"] == barrier["id"]


def test_clients_that_leave_are_unsubscribed(served: Served,
                                             people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, tokens = people
    hub = served.site.social.events
    with (sse(client, "/api/v1/streaming/user", tokens["bob"]),
          connect(ws_url(served, "stream=public"), additional_headers=tokens["carol"], open_timeout=WAIT_S)):
        assert hub.listening == 2 and hub.running
    deadline = time.monotonic() + WAIT_S
    while hub.listening or hub.running:
        assert time.monotonic() < deadline, "the hub still has listeners after they left"
        time.sleep(0.02)


class Collected(StreamListener):  # type: ignore[misc]
    """What a Mastodon.py listener heard; ``connected`` once the server's first comment came."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def handle_heartbeat(self) -> None:
        self.connected.set()

    def on_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_notification(self, notification: Any) -> None:
        self.events.put(("notification", notification))

    def next(self) -> tuple[str, Any]:
        return self.events.get(timeout=WAIT_S)


@contextlib.contextmanager
def listening(start: Any, *args: Any, **kwargs: Any) -> Iterator[Collected]:
    listener = Collected()
    handle = start(*args, listener, run_async=True, **kwargs)
    try:
        assert listener.connected.wait(WAIT_S), "the stream did not open"
        yield listener
    finally:
        handle.close()


def test_mastodon_py_streams_updates_and_notifications(
        served: Served, people: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    _, tokens = people
    alice = Mastodon(access_token=bearer(tokens["alice"]), api_base_url=served.url)
    carol = Mastodon(access_token=bearer(tokens["carol"]), api_base_url=served.url)
    with (listening(alice.stream_user) as home, listening(carol.stream_public) as public,
          listening(carol.stream_public, local=True) as local,
          listening(carol.stream_hashtag, "weft") as tagged):
        posted = alice.status_post("hello #weft")
        for listener in (home, public, local, tagged):
            kind, status = listener.next()
            assert kind == "update" and status.id == posted.id and status.account.username == "alice"
        reply = carol.status_reply(posted, "hi back")   # alice follows no one: a notification alone
        kind, note = home.next()
        assert kind == "notification" and note.type == "mention" and note.account.username == "carol"
        assert note.status.id == reply.id and note.status.in_reply_to_id == posted.id
        # requests cannot close a response another thread is reading until bytes come: the
        # server ends the streams (as when it stops), and the handles close at once.
        served.run(served.site.social.events.close())


def test_weft_serve_stops_promptly_with_streams_open(tmp_path: Path) -> None:
    data = tmp_path / "node"
    weft("admin", "create-user", "ada", "--password", PASSWORD, data=data)
    process, url, _ = serve_command(data)
    try:
        with httpx.Client(base_url=url, timeout=WAIT_S) as client:
            auth = token(client, "ada")
            with (sse(client, "/api/v1/streaming/user", auth) as stream,
                  connect(url.replace("http://", "ws://").rstrip("/") + "/api/v1/streaming?stream=public",
                          additional_headers=auth, open_timeout=WAIT_S) as ws):
                posted = post(client, auth, "still here")
                assert stream.update()["id"] == posted["id"]
                assert json.loads(receive(ws)["payload"])["id"] == posted["id"]
                process.send_signal(signal.SIGTERM)
                out, err = process.communicate(timeout=20)   # not held by the open streams
                assert process.returncode == 0, err
                assert "Traceback" not in out + err, err
                with pytest.raises(AssertionError, match="ended"):
                    stream.next()
                with pytest.raises(ConnectionClosed):
                    ws.recv(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
