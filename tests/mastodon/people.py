"""Helpers of the tests of accounts, relationships and search: people with tokens.

``token(client, "bob", "read:follows")`` is a bearer header for bob with exactly the scopes
asked (a password grant of an app that registered every scope these tests use);
``member(served, "carol")`` signs carol up and returns her account.
"""

from __future__ import annotations

import httpx

from weft.accounts import Account

from .conftest import PASSWORD
from .served import Served

APP_SCOPES = "read write follow"


def token(client: httpx.Client, username: str, scope: str = APP_SCOPES) -> dict[str, str]:
    app = client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                            "scopes": APP_SCOPES})
    assert app.status_code == 200, app.text
    granted = client.post("/oauth/token", data={
        "grant_type": "password", "username": username, "password": PASSWORD, "scope": scope,
        "client_id": app.json()["client_id"], "client_secret": app.json()["client_secret"]})
    assert granted.status_code == 200, granted.text
    return {"authorization": f"Bearer {granted.json()['access_token']}"}


def member(served: Served, username: str) -> Account:
    """A new account on the served site."""
    return served.run(served.site.accounts.sign_up(username, PASSWORD))


def account_of(served: Served, username: str) -> Account:
    return served.run(served.site.accounts.by_username(username))
