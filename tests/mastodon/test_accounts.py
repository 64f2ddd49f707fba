"""Accounts through the client API: hosted accounts and peer-to-peer identities alike, found
by acct or id, with counts people would expect, and profiles changed by form or by JSON."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from weft.config import NodeConfig
from weft.core.identity import sign_op
from weft.core.keys import SigningKey
from weft.node import LocalIdentity, Node

from .conftest import OOB, PASSWORD, authorize, oob_code
from .served import Served, serve


async def peer_identity(node: Node, name: str) -> LocalIdentity:
    """An identity this node holds that is no hosted account, with a profile and one post."""
    rotation, device = SigningKey(os.urandom(32)), SigningKey(os.urandom(32))
    genesis = sign_op(rotation, prev=None, ts=node.clock(), rotation_keys=[rotation.did],
                      devices={device.did: {"name": "laptop", "added": node.clock()}})
    me = LocalIdentity(await node.submit_ops([genesis.raw]), device, "laptop")
    await node.publish({"type": "profile", "name": name, "bio": "on my own node"}, author=me)
    await node.publish({"type": "post", "text": "hello"}, author=me)
    return me


def bearer(client: httpx.Client, username: str = "alice", scope: str = "read write") -> dict[str, str]:
    app = client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                            "scopes": "read write"}).json()
    token = client.post("/oauth/token", data={
        "grant_type": "password", "username": username, "password": PASSWORD, "scope": scope,
        "client_id": app["client_id"], "client_secret": app["client_secret"]}).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def test_a_peer_identity_is_an_account_named_by_its_short_did(served: Served) -> None:
    node = served.site.node
    carol = served.run(peer_identity(node, "Carol"))
    alice = served.run(served.site.accounts.account(1))
    served.run(node.publish({"type": "follow", "target": carol.did}, author=served.site.accounts.author(alice)))
    short = carol.did.removeprefix("did:weft:")[:16]
    with httpx.Client(base_url=served.url, timeout=30) as client:
        found = client.get("/api/v1/accounts/lookup", params={"acct": short})
        assert found.status_code == 200, found.text
        account: dict[str, Any] = found.json()
        assert account["username"] == short and account["acct"] == short
        assert account["display_name"] == "Carol" and account["note"] == "<p>on my own node</p>"
        assert account["statuses_count"] == 1 and account["followers_count"] == 1
        assert account["last_status_at"] is not None and len(account["last_status_at"]) == 10
        assert account["created_at"].endswith("T00:00:00.000Z") and account["url"] == f"{served.url}/@{short}"
        assert client.get("/api/v1/accounts/lookup", params={"acct": carol.did}).json()["id"] == account["id"]
        assert client.get(f"/api/v1/accounts/{account['id']}").json()["acct"] == short

        alice_json = client.get("/api/v1/accounts/lookup", params={"acct": "alice"}).json()
        assert alice_json["following_count"] == 1 and alice_json["fields"] == [] and alice_json["emojis"] == []
        for missing in ("nobody", "alice@elsewhere.example", short[:15]):
            gone = client.get("/api/v1/accounts/lookup", params={"acct": missing})
            assert gone.status_code == 404 and gone.json() == {"error": "Record not found"}
        assert client.get("/api/v1/accounts/12345").status_code == 404
        assert client.get("/api/v1/accounts/not-a-number").status_code == 404
        assert client.get("/api/v1/accounts/1", headers={"authorization": "Bearer nope"}).status_code == 401


def test_a_locked_account_counts_followers_it_let_in(served: Served) -> None:
    accounts = served.site.accounts
    with httpx.Client(base_url=served.url, timeout=30) as client:
        bob_token = bearer(client, "bob")
        locked = client.patch("/api/v1/accounts/update_credentials", json={"locked": True}, headers=bob_token)
        assert locked.status_code == 200 and locked.json()["locked"] is True
        alice, bob = served.run(accounts.account(1)), served.run(accounts.account(2))
        served.run(served.site.node.publish({"type": "follow", "target": bob.did}, author=accounts.author(alice)))
        waiting = client.get("/api/v1/accounts/verify_credentials", headers=bob_token).json()
        assert waiting["followers_count"] == 0 and waiting["source"]["follow_requests_count"] == 1
        served.run(served.site.node.publish({"type": "follow_accept", "target": alice.did},
                                            author=accounts.author(bob)))
        let_in = client.get("/api/v1/accounts/verify_credentials", headers=bob_token).json()
        assert let_in["followers_count"] == 1 and let_in["source"]["follow_requests_count"] == 0


def test_update_credentials_takes_json_and_keeps_what_it_was_not_sent(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        token = bearer(client)
        first = client.patch("/api/v1/accounts/update_credentials", headers=token, json={
            "note": "first note", "bot": True, "discoverable": True,
            "fields_attributes": [{"name": "pronouns", "value": "she/her"}, {"name": "", "value": ""}],
            "source": {"privacy": "private", "sensitive": True, "language": "en"}})
        assert first.status_code == 200, first.text
        second = client.patch("/api/v1/accounts/update_credentials", headers=token,
                              data={"display_name": "Alice Liddell", "fields_attributes[0][name]": "home",
                                    "fields_attributes[0][value]": "Oxford"})
        me = second.json()
        assert me["display_name"] == "Alice Liddell" and me["note"] == "<p>first note</p>" and me["bot"] is True
        assert me["discoverable"] is True
        assert me["fields"] == [{"name": "home", "value": "Oxford", "verified_at": None}]
        assert me["source"]["privacy"] == "private" and me["source"]["sensitive"] is True
        assert me["source"]["language"] == "en"
        settings = served.run(served.site.accounts.get(1)).settings
        assert settings["default_visibility"] == "followers"  # weft's name for Mastodon's "private"


def test_update_credentials_refuses_what_it_cannot_take(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        token = bearer(client)
        cases: list[dict[str, Any]] = [
            {"json": {"display_name": "x" * 101}}, {"json": {"note": "x" * 2001}},
            {"json": {"fields_attributes": [{"name": str(i), "value": "v"} for i in range(5)]}},
            {"json": {"source": {"privacy": "secret"}}}, {"json": {"locked": "perhaps"}},
            {"data": {"display_name": "x"}, "files": {"avatar": ("a.png", b"\x89PNG", "image/png")}},
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
        ]
        for case in cases:
            headers = {**token, **case.pop("headers", {})}
            refused = client.patch("/api/v1/accounts/update_credentials", headers=headers, **case)
            assert refused.status_code == 422, (case, refused.text)
            assert isinstance(refused.json()["error"], str)
        assert client.get("/api/v1/accounts/verify_credentials", headers=token).json()["display_name"] == "Alice"


def test_accounts_and_tokens_on_each_database(any_config: Callable[[str], NodeConfig]) -> None:
    with serve(any_config("n")) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        served.run(served.site.accounts.sign_up("alice", PASSWORD))
        carol = served.run(peer_identity(served.site.node, "Carol"))
        token = bearer(client)
        changed = client.patch("/api/v1/accounts/update_credentials", headers=token,
                               data={"note": "hi", "fields_attributes[0][name]": "a",
                                     "fields_attributes[0][value]": "b"})
        assert changed.status_code == 200 and changed.json()["fields"][0]["value"] == "b"
        short = carol.did.removeprefix("did:weft:")[:16]
        assert client.get("/api/v1/accounts/lookup", params={"acct": short}).json()["display_name"] == "Carol"
        app = client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}).json()
        code = oob_code(authorize(client, "/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB})))
        exchanged = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": OOB, "client_id": app["client_id"],
                                                      "client_secret": app["client_secret"]})
        assert exchanged.status_code == 200, exchanged.text
        again = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": OOB, "client_id": app["client_id"],
                                                  "client_secret": app["client_secret"]})
        assert again.json()["error"] == "invalid_grant"
        revoked = client.post("/oauth/revoke", data={"token": exchanged.json()["access_token"],
                                                     "client_id": app["client_id"],
                                                     "client_secret": app["client_secret"]})
        assert revoked.status_code == 200
        assert client.get("/api/v1/accounts/verify_credentials", headers={
            "authorization": f"Bearer {exchanged.json()['access_token']}"}).status_code == 401
