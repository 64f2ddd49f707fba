"""Administration: the registration mode and approvals on the web page, and ``weft admin``
on the command line (the way the first administrator is made)."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import CliRunner

from weft.cli.app import app
from weft.config import NodeConfig

from ..cli.program import out, weft, weft_env
from .conftest import RunnerBesidePlaywright
from .site_server import csrf_of, serving, sign_in, sign_up

PASSWORD = "a fine password"


async def test_only_administrators_see_the_administration_page(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await sign_up(client, "alice")
        page = await client.get("/admin")
        assert page.status_code == 403 and "for the server&#39;s administrators" in page.text
        settings = await client.get("/settings")
        assert 'href="/admin"' not in settings.text
        refused = await client.post("/admin/registrations", data={"csrf": csrf_of(settings.text),
                                                                  "mode": "closed"})
        assert refused.status_code == 403
        assert await running.site.accounts.registration_mode() == "open"


async def test_sign_ups_wait_for_approval_when_the_administrators_choose_so(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as admin, running.client() as bob:
        await running.site.accounts.sign_up("root_user", PASSWORD, admin=True, by_admin=True)
        assert (await sign_in(admin, "root_user", PASSWORD)).status_code == 303
        page = await admin.get("/admin")
        assert page.status_code == 200 and 'id="mode-open" name="mode" value="open" checked' in page.text
        assert "Nobody is waiting." in page.text

        changed = await admin.post("/admin/registrations", data={"csrf": csrf_of(page.text),
                                                                 "mode": "approval"})
        assert changed.headers["location"] == "/admin?notice=registrations_changed"
        form = await bob.get("/auth/sign_up")
        assert '<label for="reason">Why do you want to join?</label>' in form.text
        waiting = await sign_up(bob, "bob", reason="I knit")
        assert waiting.status_code == 200 and "waits for an administrator" in waiting.text
        assert "weft_session" not in waiting.headers.get("set-cookie", "")
        refused = await sign_in(bob, "bob", PASSWORD)
        assert refused.status_code == 403 and "waiting for an administrator" in refused.text

        page = await admin.get("/admin")
        assert "<strong>@bob</strong>" in page.text
        (pending,) = await running.site.accounts.pending()
        approved = await admin.post(f"/admin/accounts/{pending.id}/approve",
                                    data={"csrf": csrf_of(page.text)})
        assert approved.headers["location"] == "/admin?notice=approved"
        assert await running.site.accounts.pending() == []
        assert (await sign_in(bob, "bob", PASSWORD)).status_code == 303
        again = await admin.post(f"/admin/accounts/{pending.id}/approve", data={"csrf": csrf_of(page.text)})
        assert again.status_code == 404

        bad = await admin.post("/admin/registrations", data={"csrf": csrf_of(page.text), "mode": "sometimes"})
        assert bad.status_code == 422 and "Registration must be one of open, approval, closed." in bad.text


async def test_an_account_made_with_weft_admin_signs_in_on_the_web(
        make_config: Callable[[str], NodeConfig]) -> None:
    config = make_config("n")
    made = weft("admin", "create-user", "opal", "--admin", "--email", "opal@example.org",
                "--password", PASSWORD, data=config.data_dir)
    username, did = out(made).split()
    assert username == "opal" and did.startswith("did:weft:")
    assert out(weft("admin", "registrations", "closed", data=config.data_dir)) == "closed"
    assert out(weft("admin", "registrations", data=config.data_dir)) == "closed"
    taken = weft("admin", "create-user", "OPAL", "--password", PASSWORD, data=config.data_dir, ok=False)
    assert taken.code == 2 and "error: the username 'OPAL' is taken" in taken.err

    async with serving(config) as running, running.client() as client:
        assert "not taking sign-ups" in (await client.get("/auth/sign_up")).text
        assert (await sign_in(client, "opal@example.org", PASSWORD)).status_code == 303
        page = await client.get("/admin")
        assert page.status_code == 200 and 'value="closed" checked' in page.text
        assert (await running.site.accounts.by_username("opal")).did == did


def test_weft_admin_create_user_asks_for_the_password_twice(
        make_config: Callable[[str], NodeConfig], runner: RunnerBesidePlaywright) -> None:
    config = make_config("n")
    typed = f"one password\nanother one\n{PASSWORD}\n{PASSWORD}\n"

    made = CliRunner().invoke(app, ["admin", "create-user", "pia", "--data", str(config.data_dir)],
                              input=typed, env=weft_env())

    assert made.exit_code == 0, made.output
    assert "Error: The two entered values do not match." in made.output
    assert "one password" not in made.output and PASSWORD not in made.output  # not echoed
    assert made.output.rstrip().split("\n")[-1].startswith("pia did:weft:")
    runner.run(_signs_in(config, "pia", PASSWORD))


async def _signs_in(config: NodeConfig, name: str, password: str) -> None:
    async with serving(config) as running, running.client() as client:
        assert (await sign_in(client, name, "something else")).status_code == 401
        assert (await sign_in(client, name, password)).status_code == 303
