"""Server moderation at the inbox: a suspended domain's deliveries are refused (and its
actors not fetched) until it is unblocked; another server's Flag becomes a report for our
administrators, once per Flag id, and not at all from a domain whose reports are rejected."""

from __future__ import annotations

from sqlalchemy import select

from weft.social import Draft
from weft.social.moderation import normalize_domain
from weft.store.schema import identities

from .inbox_world import World, world

__all__ = ["world"]   # the module's fixture


async def test_a_suspended_domain_is_refused_until_unblocked(world: World) -> None:
    bob = world.actor()
    moderation = world.node.site.social.moderation
    domain = normalize_domain(world.remote.host.rsplit(":", 1)[0])
    await moderation.block_domain(domain, "suspend")
    try:
        create = world.remote.create(bob, world.remote.note(bob, "<p>let me in</p>", cc=[world.alice_iri]))
        refused = await world.remote.deliver(bob, world.inbox, create)
        assert refused.status_code == 403 and "suspended" in refused.json()["error"]
        async with world.db.read() as conn:   # not even fetched: bob is unknown here
            known = (await conn.execute(select(identities.c.id).where(identities.c.did == bob.iri))).first()
        assert known is None and bob.iri.split(world.remote.url, 1)[1] not in world.remote.requests
    finally:
        await moderation.unblock_domain(domain)
    accepted = await world.remote.deliver(bob, world.inbox, create)
    assert accepted.status_code == 202 and len(await world.posts_by(bob.iri)) == 1


async def test_a_flag_becomes_a_report_once(world: World) -> None:
    moderator = world.actor()
    site = world.node.site
    status = await site.social.posting.compose(world.alice, Draft("something reportable"))
    post_iri = f"{world.node.url}/objects/{status.row.entry_id}"
    flag = world.remote.activity(moderator, "Flag", [world.alice_iri, post_iri], content="please look")
    before = len(await site.social.moderation.reports())
    assert (await world.remote.deliver(moderator, world.inbox, flag)).status_code == 202
    assert (await world.remote.deliver(moderator, world.inbox, flag)).status_code == 202   # replayed
    reports = await site.social.moderation.reports()
    assert len(reports) == before + 1
    made = reports[0]
    assert (made.target, made.entries, made.comment, made.reporter) == (
        world.alice.identity, (status.row.entry_id,), "please look", None)
    assert made.origin == flag["id"] and made.origin_host == world.remote.host

    domain = normalize_domain(world.remote.host.rsplit(":", 1)[0])
    await site.social.moderation.block_domain(domain, "noop", reject_reports=True)
    try:
        another = world.remote.activity(moderator, "Flag", [world.alice_iri], content="again")
        assert (await world.remote.deliver(moderator, world.inbox, another)).status_code == 202
        assert len(await site.social.moderation.reports()) == before + 1
    finally:
        await site.social.moderation.unblock_domain(domain)
