"""WebFinger, host-meta and NodeInfo of a served site, as other servers ask for them."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote
from xml.etree import ElementTree

from weft.config import NodeConfig

from ..web.site_server import serving

PASSWORD = "correct horse battery"


async def test_webfinger_finds_hosted_accounts_by_handle_and_by_actor_url(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await running.site.accounts.sign_up("alice", PASSWORD)
        host = running.site.host
        found = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{host}"})
        assert found.status_code == 200 and found.headers["content-type"].startswith("application/jrd+json")
        document = found.json()
        assert document["subject"] == f"acct:alice@{host}"
        self_link = next(link for link in document["links"] if link["rel"] == "self")
        assert self_link == {"rel": "self", "type": "application/activity+json", "href": f"{running.url}/users/alice"}
        by_url = await client.get("/.well-known/webfinger", params={"resource": f"{running.url}/users/alice"})
        assert by_url.json()["subject"] == f"acct:alice@{host}"
        case_blind = await client.get(f"/.well-known/webfinger?resource={quote(f'acct:ALICE@{host}')}")
        assert case_blind.json()["subject"] == f"acct:alice@{host}"


async def test_webfinger_refuses_what_is_not_ours_with_a_clear_error(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        await running.site.accounts.sign_up("alice", PASSWORD)
        missing = await client.get("/.well-known/webfinger")
        assert missing.status_code == 400 and "resource" in missing.json()["error"]
        for resource in ("acct:bob@" + running.site.host, "acct:alice@elsewhere.example",
                         "https://elsewhere.example/users/alice", "acct:", "mailto:alice@x", "acct:@",
                         f"{running.url}/users/alice/followers"):
            answer = await client.get("/.well-known/webfinger", params={"resource": resource})
            assert answer.status_code == 404, resource
            assert "no account" in answer.json()["error"]


async def test_host_meta_points_at_webfinger(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        answer = await client.get("/.well-known/host-meta")
        assert answer.headers["content-type"].startswith("application/xrd+xml")
        link = ElementTree.fromstring(answer.text).find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
        assert link is not None and link.get("rel") == "lrdd"
        assert link.get("template") == f"{running.url}/.well-known/webfinger?resource={{uri}}"


async def test_nodeinfo_2_0_and_2_1_count_people_and_posts(make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        alice = await running.site.accounts.sign_up("alice", PASSWORD)
        await running.site.accounts.sign_up("bob", PASSWORD)
        from weft.social.model import Draft

        await running.site.social.posting.compose(alice, Draft("hello"))
        links = (await client.get("/.well-known/nodeinfo")).json()["links"]
        assert [link["rel"].rsplit("/", 1)[1] for link in links] == ["2.0", "2.1"]
        for link in links:
            answer = await client.get(link["href"].removeprefix(running.url))
            document = answer.json()
            assert answer.status_code == 200 and "profile=" in answer.headers["content-type"]
            assert document["version"] == link["href"].rsplit("/", 1)[1]
            assert document["software"]["name"] == "weft" and document["protocols"] == ["activitypub"]
            assert document["usage"] == {"users": {"total": 2, "activeMonth": 1, "activeHalfyear": 1},
                                         "localPosts": 1}
            assert document["openRegistrations"] is True
            assert ("repository" in document["software"]) == (document["version"] == "2.1")
        await running.site.accounts.set_registration_mode("closed")
        assert (await client.get("/nodeinfo/2.1")).json()["openRegistrations"] is False
        assert (await client.get("/nodeinfo/3.0")).status_code == 404
