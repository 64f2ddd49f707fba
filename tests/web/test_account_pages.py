"""Signing up, in and out through the web pages: sessions in a cookie, CSRF on every form,
rate limits on strangers, and the recovery key offered right after signing up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from weft.config import NodeConfig
from weft.core.keys import SigningKey
from weft.errors import NotFound
from weft.ratelimit import RateLimiter
from weft.site import Limits

from .site_server import csrf_of, form_page, serving, sign_in, sign_up

PASSWORD = "a fine password"


def no_time() -> float:
    return 0.0  # a clock that stands still: spent tokens never come back


async def test_signing_up_signs_in_and_offers_the_recovery_key(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        form = await client.get("/auth/sign_up")
        assert form.status_code == 200 and '<label for="username">Username</label>' in form.text
        assert "weft_csrf" in form.cookies

        signed_up = await sign_up(client, "alice", display_name="Alice Liddell",
                                  email="alice@example.org")

        assert signed_up.status_code == 303 and signed_up.headers["location"] == "/auth/welcome"
        cookie = signed_up.headers["set-cookie"]
        assert cookie.startswith("weft_session=")
        assert all(part in cookie for part in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=2592000"))
        assert "Secure" not in cookie  # the site is plain http on loopback
        welcome = await client.get("/auth/welcome")
        assert welcome.status_code == 200
        assert "disappears or misbehaves" in welcome.text
        assert 'href="/settings/recovery-key"' in welcome.text and "forget it on the server" in welcome.text
        settings = await client.get("/settings")
        assert settings.status_code == 200
        assert "<dd>alice</dd>" in settings.text and "@alice@127.0.0.1:" in settings.text
        assert 'value="Alice Liddell"' in settings.text and 'value="alice@example.org"' in settings.text
        csp = settings.headers["content-security-policy"]
        assert "style-src 'self'" in csp and "form-action 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert settings.headers["cache-control"] == "no-store"
        account = await running.site.accounts.by_username("alice")
        assert (await running.node.profile(account.did))["profile"]["name"] == "Alice Liddell"


async def test_a_site_on_https_sends_its_cookies_only_over_https(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), public_url="https://weft.test") as running, running.client() as client:
        form = await client.get("/auth/sign_up")
        assert "Secure" in form.headers["set-cookie"]
        token = csrf_of(form.text)
        client.cookies.set("weft_csrf", form.cookies["weft_csrf"])  # as if the browser spoke https
        signed_up = await client.post("/auth/sign_up", data={
            "csrf": token, "username": "sam", "password": PASSWORD, "password_again": PASSWORD})
        assert signed_up.status_code == 303
        cookie = signed_up.headers["set-cookie"]
        assert cookie.startswith("weft_session=") and "Secure" in cookie and "HttpOnly" in cookie


async def test_the_stylesheet_is_served_from_the_site(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        page = await client.get("/auth/sign_in")
        assert '<link rel="stylesheet" href="/static/weft.css">' in page.text
        css = await client.get("/static/weft.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "prefers-color-scheme: dark" in css.text and ":focus-visible" in css.text


async def test_a_taken_username_shows_the_form_again_with_what_was_typed(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await sign_up(client, "bob")
        client.cookies.delete("weft_session")

        again = await sign_up(client, "bob", "a secret password", display_name="Bobby <b>",
                              email="bob@example.org")

        assert again.status_code == 409
        assert "The username &#39;bob&#39; is taken." in again.text
        assert 'value="Bobby &lt;b&gt;"' in again.text and 'value="bob@example.org"' in again.text
        assert "a secret password" not in again.text
        assert "weft_session" not in again.headers.get("set-cookie", "")


async def test_two_different_passwords_are_refused(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        token = await form_page(client, "/auth/sign_up")
        response = await client.post("/auth/sign_up", data={
            "csrf": token, "username": "carol", "password": "first password",
            "password_again": "second password"})
        assert response.status_code == 422 and "The two passwords are not the same." in response.text
        with pytest.raises(NotFound):
            await running.site.accounts.by_username("carol")


async def test_forms_without_the_right_csrf_token_are_refused(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        token = await form_page(client, "/auth/sign_up")
        fields = {"username": "dave", "password": PASSWORD, "password_again": PASSWORD}
        for data in (fields, {**fields, "csrf": "x" + token[1:]}):
            refused = await client.post("/auth/sign_up", data=data)
            assert refused.status_code == 403 and "not sent from this site" in refused.text
        client.cookies.delete("weft_csrf")  # a form posted from another site carries no cookie of ours
        assert (await client.post("/auth/sign_up", data={**fields, "csrf": token})).status_code == 403

        assert (await sign_up(client, "dave")).status_code == 303
        settings = await client.get("/settings")
        session_csrf = csrf_of(settings.text)
        profile = {"name": "Mallory was here"}
        assert (await client.post("/settings/profile", data=profile)).status_code == 403
        assert (await client.post("/settings/profile", data={**profile, "csrf": token})).status_code == 403
        assert (await client.post("/settings/recovery-key/forget", data={"csrf": "nope"})).status_code == 403
        assert (await client.post("/auth/sign_out", data={})).status_code == 403
        account = await running.site.accounts.by_username("dave")
        assert (await running.node.profile(account.did))["profile"]["name"] == "dave"
        assert account.holds_recovery_key
        ok = await client.post("/settings/profile", data={**profile, "csrf": session_csrf})
        assert ok.status_code == 303


async def test_signing_in_with_a_wrong_password_is_a_401_page(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await sign_up(client, "erin", email="erin@example.org")
        client.cookies.clear()

        wrong = await sign_in(client, "erin", "not the password")
        assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
        assert 'value="erin"' in wrong.text and "not the password" not in wrong.text
        assert "weft_session" not in wrong.headers.get("set-cookie", "")

        right = await sign_in(client, "erin@example.org", PASSWORD)
        assert right.status_code == 303 and right.headers["location"] == "/settings"
        assert (await client.get("/settings")).status_code == 200


async def test_pages_for_signed_in_people_send_strangers_to_sign_in_and_back(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        away = await client.get("/settings")
        assert away.status_code == 303 and away.headers["location"] == "/auth/sign_in?next=/settings"
        await sign_up(client, "frank")
        client.cookies.delete("weft_session")
        form = await client.get("/auth/sign_in", params={"next": "/admin"})
        assert 'name="next" value="/admin"' in form.text
        back = await client.post("/auth/sign_in", data={
            "csrf": csrf_of(form.text), "name": "frank", "password": PASSWORD, "next": "/admin"})
        assert back.headers["location"] == "/admin"
        client.cookies.delete("weft_session")
        for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            token = await form_page(client, "/auth/sign_in")
            signed_in = await client.post("/auth/sign_in", data={
                "csrf": token, "name": "frank", "password": PASSWORD, "next": elsewhere})
            assert signed_in.headers["location"] == "/settings", elsewhere
            client.cookies.delete("weft_session")


async def test_signing_out_ends_the_session(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await sign_up(client, "gina")
        token = client.cookies["weft_session"]
        settings = await client.get("/settings")

        out = await client.post("/auth/sign_out", data={"csrf": csrf_of(settings.text)})

        assert out.status_code == 303 and out.headers["location"] == "/auth/sign_in?notice=signed_out"
        assert 'weft_session=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
        page = await client.get("/auth/sign_in?notice=signed_out")
        assert "You are signed out." in page.text
        client.cookies.set("weft_session", token)  # an old cookie kept somewhere opens nothing
        assert (await client.get("/settings")).status_code == 303


async def test_too_many_attempts_from_one_address_get_429_pages(
        make_config: Callable[[str], NodeConfig]) -> None:
    limits = Limits(login=RateLimiter(2, 600, no_time), sign_up=RateLimiter(1, 1800, no_time),
                    posting=RateLimiter(10, 60, no_time), reset=RateLimiter(1, 1800, no_time))
    async with serving(make_config("n"), limits=limits) as running, running.client() as client:
        assert (await sign_up(client, "hana")).status_code == 303
        client.cookies.delete("weft_session")
        assert (await sign_up(client, "ivan")).status_code == 429

        for _ in range(2):
            assert (await sign_in(client, "hana", "wrong password")).status_code == 401
        limited = await sign_in(client, "hana", PASSWORD)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "300"
        assert "Too many attempts" in limited.text and "try again in 300 s" in limited.text
        assert "weft_session" not in limited.headers.get("set-cookie", "")

        token = await form_page(client, "/auth/password/forgot")
        for expected in (200, 429):
            response = await client.post("/auth/password/forgot", data={"csrf": token, "name": "hana"})
            assert response.status_code == expected


async def test_the_recovery_key_downloads_until_its_owner_says_they_kept_it(
        make_config: Callable[[str], NodeConfig], tmp_path: Path) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await sign_up(client, "jo")
        account = await running.site.accounts.by_username("jo")

        download = await client.get("/settings/recovery-key")

        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/plain")
        assert download.headers["content-disposition"] == 'attachment; filename="weft-recovery-jo.key"'
        assert download.headers["cache-control"] == "no-store"
        assert account.did in download.text
        (line,) = [line for line in download.text.splitlines() if line and not line.startswith("#")]
        state = await running.node.state(account.did)
        assert SigningKey.from_export(line).did == state.rotation_keys[0]  # the highest rank

        settings = await client.get("/settings")
        forgot = await client.post("/settings/recovery-key/forget", data={"csrf": csrf_of(settings.text)})
        assert forgot.headers["location"] == "/settings?notice=recovery_key_forgotten"
        gone = await client.get("/settings/recovery-key")
        assert gone.status_code == 404 and "no longer holds your recovery key" in gone.text
        settings = await client.get("/settings?notice=recovery_key_forgotten")
        assert "This server no longer holds your recovery key." in settings.text
        assert 'href="/settings/recovery-key"' not in settings.text


async def test_closed_registrations_say_so(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        token = await form_page(client, "/auth/sign_up")
        await running.site.accounts.set_registration_mode("closed")
        page = await client.get("/auth/sign_up")
        assert page.status_code == 200 and "not taking sign-ups" in page.text
        assert 'name="username"' not in page.text
        refused = await client.post("/auth/sign_up", data={
            "csrf": token, "username": "kim", "password": PASSWORD, "password_again": PASSWORD})
        assert refused.status_code == 403 and "not taking sign-ups" in refused.text
        assert await running.site.accounts.pending() == []
