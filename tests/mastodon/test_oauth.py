"""The OAuth rules, seen from a client that speaks HTTP itself: PKCE, codes that work once
and not for long, redirect URIs held to what the app registered, scopes held to what it
asked for, tokens that are stored only as hashes, and the person's "Deny"."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.conftest import FakeClock
from weft.config import NodeConfig
from weft.store.schema import oauth_apps, oauth_codes, oauth_tokens

from .conftest import OOB, PASSWORD, authorize, log_in_on_page
from .served import Form, Served, serve

CALLBACK = "https://app.example/callback?from=weft"
VERIFIER = "a-verifier-that-is-long-enough-to-be-valid-0123456789"


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def register(client: httpx.Client, scopes: str = "read write", uris: Any = (CALLBACK, OOB)) -> dict[str, Any]:
    answer = client.post("/api/v1/apps", json={"client_name": "Tusk", "redirect_uris": list(uris),
                                               "scopes": scopes, "website": "https://app.example"})
    assert answer.status_code == 200, answer.text
    app: dict[str, Any] = answer.json()
    return app


def authorize_url(app: dict[str, Any], **params: str) -> str:
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK,
             "scope": "read write", "state": "xyz", "code_challenge": challenge_of(VERIFIER),
             "code_challenge_method": "S256", **params}
    return "/oauth/authorize?" + urlencode(query)


def code_from(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("https://app.example/callback?")
    query = parse_qs(urlsplit(location).query)
    assert query["from"] == ["weft"] and query["state"] == ["xyz"]
    return query["code"][0]


def exchange(client: httpx.Client, app: dict[str, Any], code: str, **extra: str) -> httpx.Response:
    return client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": CALLBACK, "code_verifier": VERIFIER, **extra})


def test_a_code_with_pkce_becomes_a_token_once(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client)
        assert app["redirect_uris"] == [CALLBACK, OOB] and app["scopes"] == ["read", "write"]
        code = code_from(authorize(client, authorize_url(app)))

        wrong = exchange(client, app, code, code_verifier="another-verifier-that-is-long-enough-0123456789")
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        assert exchange(client, app, code).json()["error"] == "invalid_grant"  # a failed try used it up

        code = code_from(authorize(client, authorize_url(app)))
        token = exchange(client, app, code)
        assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
        body = token.json()
        assert body["token_type"] == "Bearer" and body["scope"] == "read write"
        assert isinstance(body["created_at"], int)
        again = exchange(client, app, code)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

        me = client.get("/api/v1/accounts/verify_credentials",
                        headers={"authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200 and me.json()["username"] == "alice"
        assert me.headers["access-control-allow-origin"] == "*"

        rows = served.run(_all_rows(served))
        stored = repr(rows).encode()
        for secret in (app["client_secret"], body["access_token"], code):
            assert secret.encode() not in stored  # only hashes are kept
        assert hashlib.sha256(body["access_token"].encode()).digest() in [r.token_hash for r in rows["tokens"]]
        path = served.site.node.db.sqlite_path
        assert path is not None
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the WAL too
        assert body["access_token"].encode() not in files and app["client_secret"].encode() not in files


async def _all_rows(served: Served) -> dict[str, list[Any]]:
    async with served.site.node.db.read() as conn:
        return {name: list((await conn.execute(table.select())).all())
                for name, table in (("apps", oauth_apps), ("codes", oauth_codes), ("tokens", oauth_tokens))}


def test_the_redirect_uri_must_be_the_codes(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client)
        code = code_from(authorize(client, authorize_url(app)))
        wrong = exchange(client, app, code, redirect_uri=OOB)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

        unknown = client.get(authorize_url(app, redirect_uri="https://evil.example/steal"))
        assert unknown.status_code == 400 and "location" not in unknown.headers  # never sent there
        assert "Wrong redirect URI" in unknown.text


def test_scopes_beyond_the_apps_are_refused(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client, scopes="read")
        refused = client.get(authorize_url(app, scope="read write"))
        assert refused.status_code == 303
        query = parse_qs(urlsplit(refused.headers["location"]).query)
        assert query["error"] == ["invalid_scope"] and query["state"] == ["xyz"]
        granular = client.get(authorize_url(app, scope="read:statuses"))  # a part of "read" is fine
        assert granular.status_code == 200 and "Log in to authorize Tusk" in granular.text
        token = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "write",
                                                  "client_id": app["client_id"],
                                                  "client_secret": app["client_secret"]})
        assert token.status_code == 400 and token.json()["error"] == "invalid_scope"
        unknown = client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB,
                                                    "scopes": "read everything"})
        assert unknown.status_code == 422 and "everything" in unknown.json()["error"]


def test_a_read_token_cannot_change_the_profile(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client, scopes="read write")
        token = client.post("/oauth/token", data={
            "grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "read",
            "client_id": app["client_id"], "client_secret": app["client_secret"]}).json()["access_token"]
        bearer = {"authorization": f"Bearer {token}"}
        refused = client.patch("/api/v1/accounts/update_credentials", data={"display_name": "x"}, headers=bearer)
        assert refused.status_code == 403
        assert refused.json() == {"error": "This action is outside the authorized scopes"}
        assert client.get("/api/v1/accounts/verify_credentials", headers=bearer).status_code == 200


def test_bad_tokens_and_client_credentials(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        invalid = client.get("/api/v1/accounts/verify_credentials", headers={"authorization": "Bearer nope"})
        assert invalid.status_code == 401 and invalid.json() == {"error": "The access token is invalid"}
        assert "invalid_token" in invalid.headers["www-authenticate"]
        assert client.get("/api/v1/accounts/verify_credentials").status_code == 401

        app = register(client)
        wrong_secret = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                         "client_id": app["client_id"], "client_secret": "x"})
        assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
        basic = httpx.BasicAuth(app["client_id"], app["client_secret"])
        own = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=basic)
        assert own.status_code == 200 and own.json()["scope"] == "read"
        bearer = {"authorization": f"Bearer {own.json()['access_token']}"}
        assert client.get("/api/v1/apps/verify_credentials", headers=bearer).json()["name"] == "Tusk"
        nobody = client.get("/api/v1/accounts/verify_credentials", headers=bearer)
        assert nobody.status_code == 422 and nobody.json()["error"] == "This method requires an authenticated user"
        assert client.get("/api/v1/accounts/verify_credentials",
                          params={"access_token": own.json()["access_token"]}).status_code == 422

        other = register(client)
        refused = client.post("/oauth/revoke", data={"token": own.json()["access_token"],
                                                     "client_id": other["client_id"],
                                                     "client_secret": other["client_secret"]})
        assert refused.status_code == 403  # not other's to revoke
        revoked = client.post("/oauth/revoke", data={"token": own.json()["access_token"]}, auth=basic)
        assert revoked.status_code == 200 and revoked.json() == {}
        assert client.get("/api/v1/apps/verify_credentials", headers=bearer).status_code == 401
        unsupported = client.post("/oauth/token", data={"grant_type": "refresh_token"}, auth=basic)
        assert unsupported.json()["error"] == "unsupported_grant_type"


def test_deny_sends_the_person_back_with_access_denied(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client)
        denied = authorize(client, authorize_url(app), decision="deny")
        assert denied.status_code == 303
        query = parse_qs(urlsplit(denied.headers["location"]).query)
        assert query["error"] == ["access_denied"] and query["state"] == ["xyz"] and "code" not in query


def test_the_consent_page_names_the_app_and_may_redirect_only_to_it(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client)
        signed_in = log_in_on_page(client, authorize_url(app))
        assert signed_in.status_code == 303 and "weft_session" in client.cookies
        consent = client.get(signed_in.headers["location"])
        assert "Authorize Tusk?" in consent.text and "@alice" in consent.text
        assert "read all your account&#39;s data" in consent.text
        csp = consent.headers["content-security-policy"]
        assert "form-action 'self' https://app.example;" in csp and "script-src" not in csp
        form = Form(consent.text)
        forged = client.post(form.action, data=form.submit(action="authorize", csrf="forged"))
        assert forged.status_code == 403 and "location" not in forged.headers
        # Signed in, the page goes straight to consent, unless the app wants a fresh login.
        assert "Authorize Tusk?" in client.get(authorize_url(app)).text
        assert "Log in to authorize" in client.get(authorize_url(app, force_login="true")).text


def test_the_login_form_needs_its_csrf_cookie_and_the_right_password(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        app = register(client)
        page = client.get(authorize_url(app))
        form = Form(page.text)
        wrong = client.post(form.action, data=form.submit(username="alice", password="wrong", action="login"))
        assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
        client.cookies.clear()
        forged = client.post(form.action, data=form.submit(username="alice", password=PASSWORD, action="login"))
        assert forged.status_code == 403 and "weft_session" not in client.cookies


def test_an_expired_code_is_refused(make_config: Callable[[str], NodeConfig]) -> None:
    clock = FakeClock()
    with serve(make_config("n"), clock=clock) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        served.run(served.site.accounts.sign_up("alice", PASSWORD))
        app = register(client)
        code = code_from(authorize(client, authorize_url(app)))
        clock.advance(10 * 60 * 1000)
        late = exchange(client, app, code)
        assert late.status_code == 400 and late.json() == {"error": "invalid_grant",
                                                           "error_description": "the authorization code has expired"}
