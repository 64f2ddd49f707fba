"""The instance as clients first see it, the images every account starts with, web clients
on other origins, the OAuth server's metadata, and logins that come too fast."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from PIL import Image

from weft.config import NodeConfig
from weft.ratelimit import RateLimiter
from weft.site import Limits

from .conftest import PASSWORD
from .served import Form, Served, serve


def test_instance_v1_and_v2(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        v2 = client.get("/api/v2/instance").json()
        assert v2["domain"] == served.site.host and v2["api_versions"] == {"mastodon": 2}
        assert v2["configuration"]["statuses"] == {"max_characters": 5000, "max_media_attachments": 4,
                                                   "characters_reserved_per_url": 23}
        media = v2["configuration"]["media_attachments"]
        assert media["image_size_limit"] > 0 and media["image_matrix_limit"] > 0
        assert v2["configuration"]["urls"]["streaming"] == "ws://" + served.site.host
        assert v2["contact"]["account"]["username"] == "alice" and v2["rules"] == []
        v1 = client.get("/api/v1/instance").json()
        assert v1["uri"] == served.site.host and v1["stats"]["user_count"] == 2
        assert v1["registrations"] is True and v1["approval_required"] is False
        assert v1["urls"]["streaming_api"] == "ws://" + served.site.host
        assert client.get("/api/v1/instance/").json() == v1  # as Mastodon.py asks for it

        served.run(served.site.accounts.set_registration_mode("approval"))
        waiting = client.get("/api/v2/instance").json()["registrations"]
        assert waiting["enabled"] is True and waiting["approval_required"] is True
        served.run(served.site.accounts.set_registration_mode("closed"))
        assert client.get("/api/v1/instance").json()["registrations"] is False


def test_default_images_are_real_pngs_that_other_origins_may_show(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for path, size in (("/avatars/original/missing.png", (400, 400)),
                           ("/headers/original/missing.png", (1500, 500))):
            image = client.get(path)
            assert image.status_code == 200 and image.headers["content-type"] == "image/png"
            assert image.headers["cross-origin-resource-policy"] == "cross-origin"
            assert Image.open(io.BytesIO(image.content)).size == size


def test_web_clients_on_other_origins_may_call_the_api(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        preflight = client.options("/api/v1/accounts/update_credentials", headers={
            "origin": "https://elk.example", "access-control-request-method": "PATCH",
            "access-control-request-headers": "authorization, content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        answer = client.get("/api/v1/instance", headers={"origin": "https://elk.example"})
        assert answer.headers["access-control-allow-origin"] == "*" and "Link" in answer.headers[
            "access-control-expose-headers"]
        # The pages that use cookies are not opened to other origins.
        assert "access-control-allow-origin" not in client.get("/oauth/authorize").headers


def test_oauth_metadata_names_the_endpoints(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        meta = client.get("/.well-known/oauth-authorization-server").json()
        assert meta["issuer"] == served.url + "/"
        assert meta["authorization_endpoint"] == served.url + "/oauth/authorize"
        assert meta["token_endpoint"] == served.url + "/oauth/token"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert "password" in meta["grant_types_supported"] and "read:statuses" in meta["scopes_supported"]


def test_logins_are_rate_limited_per_address(make_config: Callable[[str], NodeConfig]) -> None:
    def still() -> float:
        return 0.0  # a clock that stands still: spent attempts never come back

    limits = Limits(login=RateLimiter(2, 300, still), sign_up=RateLimiter(5, 300, still),
                    posting=RateLimiter(5, 300, still), reset=RateLimiter(5, 300, still))
    with serve(make_config("n"), limits=limits) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        served.run(served.site.accounts.sign_up("alice", PASSWORD))
        app = client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}).json()
        grant = {"grant_type": "password", "username": "alice", "client_id": app["client_id"],
                 "client_secret": app["client_secret"]}
        assert client.post("/oauth/token", data={**grant, "password": "wrong"}).json()["error"] == "invalid_grant"
        assert client.post("/oauth/token", data={**grant, "password": PASSWORD}).status_code == 200
        limited = client.post("/oauth/token", data={**grant, "password": PASSWORD})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        page = client.get("/oauth/authorize", params={"response_type": "code", "client_id": app["client_id"]})
        form = Form(page.text)
        refused = client.post(form.action, data=form.submit(username="alice", password=PASSWORD, action="login"))
        assert refused.status_code == 429 and "weft_session" not in client.cookies
