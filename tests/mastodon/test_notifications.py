"""Notifications and read markers through the client API: types as Mastodon clients know
them, filters, one by id, dismiss and clear, unread counts, and markers set by form or JSON."""

from __future__ import annotations

import httpx

from .served import Served
from .test_accounts import bearer
from .test_statuses import follow, post


def _types(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [note["type"] for note in answer.json()]


def test_notifications_as_mastodon_clients_know_them(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        first = post(client, alice, status="hello")
        post(client, bob, status="hi @alice")                        # a mention
        reply = post(client, bob, status="re", in_reply_to_id=first["id"])  # a reply: a mention to clients
        client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=bob)
        client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=bob)
        follow(served, "bob", "alice")

        everything = client.get("/api/v1/notifications", headers=alice)
        assert _types(everything) == ["follow", "reblog", "favourite", "mention", "mention"]
        notes = everything.json()
        bob_id = notes[0]["account"]["id"]
        assert all(note["account"]["username"] == "bob" for note in notes)
        assert notes[0]["status"] is None and notes[1]["status"]["id"] == first["id"]
        assert notes[3]["status"]["id"] == reply["id"] and notes[3]["status"]["in_reply_to_id"] == first["id"]
        assert all(note["id"].isdigit() and note["created_at"].endswith("Z") for note in notes)
        assert notes[2]["group_key"] == f"ungrouped-{notes[2]['id']}"

        def kinds(*pairs: tuple[str, str]) -> list[str]:
            return _types(client.get("/api/v1/notifications", params=list(pairs), headers=alice))

        assert kinds(("types[]", "mention")) == ["mention", "mention"]
        assert kinds(("types[]", "favourite"), ("types[]", "follow")) == ["follow", "favourite"]
        assert kinds(("exclude_types[]", "mention"), ("exclude_types[]", "follow")) == ["reblog", "favourite"]
        assert kinds(("types[]", "poll")) == []
        assert kinds(("account_id", bob_id)) == _types(everything)
        assert kinds(("account_id", "999")) == []

        page = client.get("/api/v1/notifications", params={"limit": 2}, headers=alice)
        assert [n["id"] for n in page.json()] == [notes[0]["id"], notes[1]["id"]]
        following = client.get(page.links["next"]["url"], headers=alice)
        assert [n["id"] for n in following.json()] == [notes[2]["id"], notes[3]["id"]]
        newer = client.get("/api/v1/notifications", params={"min_id": notes[2]["id"]}, headers=alice)
        assert [n["id"] for n in newer.json()] == [notes[0]["id"], notes[1]["id"]]

        one = client.get(f"/api/v1/notifications/{notes[1]['id']}", headers=alice)
        assert one.status_code == 200 and one.json()["type"] == "reblog"
        assert client.get(f"/api/v1/notifications/{notes[1]['id']}", headers=bob).status_code == 404
        assert client.post(f"/api/v1/notifications/{notes[1]['id']}/dismiss", headers=bob).status_code == 404
        assert client.post(f"/api/v1/notifications/{notes[1]['id']}/dismiss", headers=alice).json() == {}
        assert client.get(f"/api/v1/notifications/{notes[1]['id']}", headers=alice).status_code == 404
        assert len(client.get("/api/v1/notifications", headers=alice).json()) == 4

        # A notification about a post that is gone is not shown.
        assert client.delete(f"/api/v1/statuses/{reply['id']}", headers=bob).status_code == 200
        assert _types(client.get("/api/v1/notifications", headers=alice)) == ["follow", "favourite", "mention"]

        assert client.get("/api/v1/notifications").status_code == 401
        reader = bearer(client, "alice", scope="read:notifications")
        assert client.get("/api/v1/notifications", headers=reader).status_code == 200
        assert client.post("/api/v1/notifications/clear", headers=reader).status_code == 403
        assert client.get("/api/v1/notifications", headers=bearer(client, "alice", scope="read:statuses")
                          ).status_code == 403
        assert client.post("/api/v1/notifications/clear", headers=alice).json() == {}
        assert client.get("/api/v1/notifications", headers=alice).json() == []


def test_markers_and_unread_count(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        for n in range(3):
            post(client, bob, status=f"@alice number {n}")
        notes = client.get("/api/v1/notifications", headers=alice).json()
        assert client.get("/api/v1/notifications/unread_count", headers=alice).json() == {"count": 3}
        assert client.get("/api/v1/markers", params={"timeline[]": "notifications"}, headers=alice).json() == {}

        moved = client.post("/api/v1/markers", data={"notifications[last_read_id]": notes[1]["id"]}, headers=alice)
        assert moved.status_code == 200, moved.text
        marker = moved.json()["notifications"]
        assert marker["last_read_id"] == notes[1]["id"] and marker["version"] == 0
        assert marker["updated_at"].endswith("Z")
        assert client.get("/api/v1/notifications/unread_count", headers=alice).json() == {"count": 1}
        assert client.get("/api/v1/notifications/unread_count", params={"limit": 0},
                          headers=alice).status_code == 422

        home = post(client, alice, status="mine")
        both = client.post("/api/v1/markers", json={"home": {"last_read_id": home["id"]},
                                                    "notifications": {"last_read_id": notes[0]["id"]}},
                           headers=alice).json()
        assert both["home"]["last_read_id"] == home["id"] and both["notifications"]["version"] == 1
        read = client.get("/api/v1/markers", params=[("timeline[]", "home"), ("timeline[]", "notifications")],
                          headers=alice).json()
        assert read["home"]["last_read_id"] == home["id"] and read["notifications"]["last_read_id"] == notes[0]["id"]
        assert client.get("/api/v1/notifications/unread_count", headers=alice).json() == {"count": 0}
        assert client.get("/api/v1/markers", params={"timeline[]": "home"}, headers=bob).json() == {}

        for refused in ({}, {"home": {}}, {"home": {"last_read_id": "abc"}}, {"home": {"last_read_id": []}}):
            assert client.post("/api/v1/markers", json=refused, headers=alice).status_code == 422, refused
        assert client.get("/api/v1/markers").status_code == 401
        writer = bearer(client, "alice", scope="write")
        assert client.get("/api/v1/markers", headers=writer).status_code == 403
        assert client.post("/api/v1/markers", json={"home": {"last_read_id": "1"}}, headers=writer).status_code == 200
