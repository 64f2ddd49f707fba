"""Server moderation: domain blocks (suspend removes, silence hides from public timelines,
subdomains covered), Mastodon's blocklist CSV both ways, reports, and the administrators'
pages for them. Remote actors and their posts enter as the inbox makes them: a
remote_actors row and foreign entries through ingest."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from sqlalchemy import func, select

from weft.config import NodeConfig
from weft.core.foreign import make_foreign
from weft.errors import UsageError
from weft.ingest import ForeignOffer
from weft.site import Site
from weft.store.identities import ensure_identities
from weft.store.schema import entries, remote_actors
from weft.store.statuses import Page

from .site_server import csrf_of, serving, sign_in, sign_up
from .social_people import ENV

PASSWORD = "a fine password"
SPAM = "https://spam.bad.example/users/spammer"
NICE = "https://good.example/users/nice"


async def remote_actor(site: Site, iri: str) -> int:
    host = iri.split("/")[2]
    async with site.node.db.write() as conn:
        identity = (await ensure_identities(conn, [iri]))[iri]
        await conn.execute(remote_actors.insert().values(
            identity=identity, iri=iri, host=host, kind="Person", inbox=f"{iri}/inbox",
            shared_inbox=f"https://{host}/inbox", followers=f"{iri}/followers", key_id=f"{iri}#main-key",
            public_key_pem=None, handle=f"{iri.rsplit('/', 1)[1]}@{host}", moved_to=None,
            document=orjson.dumps({"id": iri}), fetched_at=site.node.clock()))
    return identity


async def remote_post(site: Site, author: str, number: int, text: str) -> None:
    entry, data = make_foreign({"type": "post", "text": text, "visibility": "public"}, author=author,
                               origin=f"{author}/statuses/{number}", via="signature", ts=site.node.clock() + number)
    [outcome] = await site.node.ingest.foreign([ForeignOffer(entry.raw, data)])
    assert outcome.status == "stored", outcome


async def public_texts(site: Site) -> list[str]:
    shown = await site.social.statuses.timeline(None, "public", Page(limit=40))
    return sorted(status.row.text or "" for status in shown)


async def held_by(site: Site, identity: int) -> int:
    async with site.node.db.read() as conn:
        found = await conn.execute(select(func.count()).select_from(entries).where(entries.c.author == identity))
        return int(found.scalar_one())


async def test_silence_hides_and_suspend_removes_a_domain_and_its_subdomains(
        any_config: Callable[[str], NodeConfig]) -> None:
    async with serving(any_config("n"), environ=ENV) as running:
        site = running.site
        spammer, _ = await remote_actor(site, SPAM), await remote_actor(site, NICE)
        await remote_post(site, SPAM, 1, "buy things")
        await remote_post(site, NICE, 2, "hello there")
        assert await public_texts(site) == ["buy things", "hello there"]
        moderation = site.social.moderation

        await moderation.block_domain("BAD.example", "silence")        # covers spam.bad.example
        assert await public_texts(site) == ["hello there"]
        assert await held_by(site, spammer) == 1                        # silenced, not removed
        policy = await moderation.policy("spam.bad.example:443")
        assert policy is not None and policy.silenced and not policy.suspended and not policy.reject_media
        assert await moderation.policy("notbad.example") is None       # a suffix is not a subdomain

        block, purged = await moderation.block_domain("bad.example", "suspend")
        assert (block.severity, purged) == ("suspend", 1)
        assert await held_by(site, spammer) == 0
        policy = await moderation.policy("spam.bad.example")
        assert policy is not None and policy.suspended and policy.reject_media and policy.reject_reports

        await moderation.unblock_domain("bad.example")
        assert await moderation.policy("spam.bad.example") is None
        await remote_post(site, SPAM, 3, "back again")                 # accepted again once unblocked
        assert await public_texts(site) == ["back again", "hello there"]


async def test_blocklists_go_out_and_come_back_in_mastodons_csv(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("a"), environ=ENV) as first, serving(make_config("b"), environ=ENV) as second:
        one, other = first.site.social.moderation, second.site.social.moderation
        await one.block_domain("bad.example", "suspend", public_comment="spam, \"lots\"")
        await one.block_domain("loud.example", "silence", reject_media=True, obfuscate=True)
        exported = one.export_csv(await one.domain_blocks())
        assert exported.splitlines()[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
        assert await other.import_csv(exported) == (2, [])
        assert [(b.domain, b.severity, b.reject_media, b.obfuscate, b.public_comment)
                for b in await other.domain_blocks()] == [
            ("bad.example", "suspend", False, False, 'spam, "lots"'), ("loud.example", "silence", True, True, "")]
        made, problems = await other.import_csv("plain.example\nhttps://Other.Example/path\nnot a domain\n")
        assert made == 2 and problems == ["line 3: 'not a domain' is not a domain name"]
        assert {b.domain for b in await other.domain_blocks()} >= {"plain.example", "other.example"}
        made, problems = await other.import_csv("#domain,#severity\nx.example,banish\n")
        assert made == 0 and "severity must be one of" in problems[0]
        made, problems = await other.import_csv("\x00b.example\n")
        assert made == 0 and "is not a domain name" in problems[0]
        with pytest.raises(UsageError, match="not CSV"):
            await other.import_csv('a.example\n"' + "b" * 200_000 + '"\n')   # over csv's field limit


async def test_administrators_block_domains_and_review_reports_on_the_web(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n"), environ=ENV) as running, running.client() as admin, \
            running.client() as alice_client:
        site = running.site
        await site.accounts.sign_up("root_user", PASSWORD, admin=True, by_admin=True)
        assert (await sign_in(admin, "root_user", PASSWORD)).status_code == 303
        await sign_up(alice_client, "alice")
        refused = await alice_client.get("/admin/domains")
        assert refused.status_code == 403

        page = await admin.get("/admin/domains")
        assert page.status_code == 200 and "No domain is blocked." in page.text
        done = await admin.post("/admin/domains", data={
            "csrf": csrf_of(page.text), "domain": "bad.example", "severity": "silence", "reject_media": "on",
            "public_comment": "<b>spam</b>"})
        assert done.status_code == 303 and done.headers["location"] == "/admin/domains?notice=domain_blocked"
        page = await admin.get(done.headers["location"])
        assert "The domain block is saved." in page.text and "&lt;b&gt;spam&lt;/b&gt;" in page.text
        exported = await admin.get("/admin/domains/export.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        assert "bad.example,silence,true,false,<b>spam</b>,false" in exported.text

        imported = await admin.post("/admin/domains/import", data={"csrf": csrf_of(page.text)},
                                    files={"file": ("blocks.csv", b"#domain,#severity\nworse.example,suspend\n??,x\n",
                                                    "text/csv")})
        assert imported.status_code == 200 and "1 domain block(s) imported." in imported.text
        assert "line 3:" in imported.text
        assert {b.domain for b in await site.social.moderation.domain_blocks()} == {"bad.example", "worse.example"}
        gone = await admin.post("/admin/domains/unblock", data={"csrf": csrf_of(page.text), "domain": "worse.example"})
        assert gone.status_code == 303
        assert {b.domain for b in await site.social.moderation.domain_blocks()} == {"bad.example"}

        reporter = await site.accounts.by_username("alice")
        spammer = await remote_actor(site, SPAM)
        report_id = await site.social.moderation.report(reporter, spammer, comment="sells things",
                                                        category="spam", forward=True)
        reports_page = await admin.get("/admin/reports")
        assert f"Report {report_id}" in reports_page.text and "sells things" in reports_page.text
        assert "sells things" in reports_page.text and "@alice" in reports_page.text
        resolved = await admin.post(f"/admin/reports/{report_id}/resolve", data={"csrf": csrf_of(reports_page.text)})
        assert resolved.status_code == 303
        assert "No open reports." in (await admin.get("/admin/reports")).text
        assert f"Report {report_id}" in (await admin.get("/admin/reports?show=resolved")).text
        await site.social.moderation.block_domain("rude.example", "noop", reject_reports=True)
        received = await site.social.moderation.received_flag(
            origin="https://rude.example/flags/1", origin_host="rude.example", target=reporter.identity,
            entries=[], comment="from afar")
        assert received is None                                         # rude.example's reports are rejected
        first = await site.social.moderation.received_flag(
            origin="https://good.example/flags/1", origin_host="good.example", target=reporter.identity,
            entries=[], comment="from afar")
        again = await site.social.moderation.received_flag(
            origin="https://good.example/flags/1", origin_host="good.example", target=reporter.identity,
            entries=[], comment="from afar")
        assert first is not None and again is None
        assert "the server good.example" in (await admin.get("/admin/reports")).text
