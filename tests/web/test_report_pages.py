"""Reporting someone from their page: the form offers their recent posts and, for a
Fediverse person, to forward the report to their server; what is sent becomes a report for
the moderators (queued for their server when forwarded), and bad input is refused."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from weft.config import NodeConfig
from weft.store.schema import federation_queue
from weft.store.statuses import Page

from .site_server import csrf_of, serving
from .social_people import ENV, people
from .test_moderation import SPAM, remote_actor, remote_post

SPAM_HANDLE = "spammer@spam.bad.example"


async def test_a_report_from_a_person_s_page_reaches_the_moderators_and_their_server(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, people(running) as folks:
        site = running.site
        alice, bob = await folks.join("alice"), await folks.join("bob")
        spammer = await remote_actor(site, SPAM)
        await remote_post(site, SPAM, 1, "buy cheap things")
        [spam] = await site.social.statuses.timeline(alice.account, "account", Page(limit=10), account=spammer)

        profile = await alice.get(f"/@{SPAM_HANDLE}")
        assert f'href="/@{SPAM_HANDLE}/report"' in profile.text
        form = await alice.get(f"/@{SPAM_HANDLE}/report")
        assert form.status_code == 200 and "buy cheap things" in form.text
        assert "Forward to their server (spam.bad.example)" in form.text
        sent = await alice.client.post(f"/@{SPAM_HANDLE}/report", data={
            "csrf": csrf_of(form.text), "category": "spam", "comment": "selling things", "status": str(spam.id),
            "forward": "on"})
        assert sent.status_code == 303 and sent.headers["location"].endswith("?notice=reported")
        assert "Your report is sent" in (await alice.get(sent.headers["location"])).text
        [report] = await site.social.moderation.reports()
        assert (report.reporter, report.target, report.category, report.comment, report.entries, report.forward) == (
            alice.account.identity, spammer, "spam", "selling things", (spam.row.entry_id,), True)
        async with site.node.db.read() as conn:
            queued = list((await conn.execute(select(federation_queue.c.report).where(
                federation_queue.c.report.is_not(None)))).scalars())
        assert queued == [report.id]

        # Someone hosted here: nowhere to forward to, and no such box is offered.
        local_form = await alice.get("/@bob/report")
        assert local_form.status_code == 200 and "Forward to their server" not in local_form.text
        mine = await alice.compose("not bob's")
        wrong = await alice.client.post("/@bob/report", data={"csrf": csrf_of(local_form.text), "status": str(mine.id)})
        assert wrong.status_code == 422 and "not by the person reported" in wrong.text
        unknown = await alice.client.post("/@bob/report", data={"csrf": csrf_of(local_form.text), "status": "x"})
        assert unknown.status_code == 404
        assert len(await site.social.moderation.reports()) == 1       # nothing half made
        ok = await alice.client.post("/@bob/report", data={"csrf": csrf_of(local_form.text), "forward": "on"})
        assert ok.status_code == 303
        assert not (await site.social.moderation.reports())[0].forward
        assert (await bob.get("/@bob/report")).status_code == 422      # not oneself
        async with running.client() as stranger:                       # signed out: sign in first
            assert (await stranger.get("/@bob/report")).status_code == 303
