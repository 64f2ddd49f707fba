"""Reports through the client API, as Mastodon.py sends them: stored for the moderators
with the reported posts, refused for posts by someone else or unseen, and scoped."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from mastodon import MastodonAPIError, MastodonNotFoundError
from weft.store.schema import federation_queue

from ..web.test_moderation import remote_actor
from .served import Served
from .test_home_boosts_api import logged_in


def test_a_report_with_posts_reaches_the_moderators(served: Served) -> None:
    alice, bob = logged_in(served, "alice"), logged_in(served, "bob")
    spam = bob.status_post("buy my things")
    other = alice.status_post("my own words")
    secret = bob.status_post("for followers", visibility="private")
    made = alice.report(bob.me().id, status_ids=[spam.id], comment="spam!", forward=False, category="spam")
    assert made.category == "spam" and made.comment == "spam!" and made.status_ids == [str(spam.id)]
    assert made.target_account.acct == "bob" and made.action_taken is False and made.forwarded is False

    reports = served.run(served.site.social.moderation.reports())
    assert [(r.id, r.category, r.comment, len(r.entries)) for r in reports] == [(int(made.id), "spam", "spam!", 1)]
    with pytest.raises(MastodonAPIError):       # not bob's post
        alice.report(bob.me().id, status_ids=[other.id])
    with pytest.raises(MastodonNotFoundError):  # a followers-only post alice cannot see
        alice.report(bob.me().id, status_ids=[secret.id])
    with pytest.raises(MastodonNotFoundError):
        alice.report(999_999_999)
    with httpx.Client(base_url=served.url, timeout=30) as client:   # Mastodon.py refuses it before sending
        unknown = client.post("/api/v1/reports", data={"account_id": str(bob.me().id), "category": "annoying"},
                              headers={"authorization": f"Bearer {alice.access_token}"})
        assert unknown.status_code == 422 and "category must be one of" in unknown.json()["error"]
    assert len(served.run(served.site.social.moderation.reports())) == 1


def test_reporting_needs_the_write_reports_scope(served: Served) -> None:
    bob = logged_in(served, "bob")
    with httpx.Client(base_url=served.url, timeout=30) as client:
        refused = client.post("/api/v1/reports", data={"account_id": str(bob.me().id)})
        assert refused.status_code == 401


def test_a_report_about_a_fediverse_person_goes_to_their_server_when_asked(served: Served) -> None:
    alice, bob = logged_in(served, "alice"), logged_in(served, "bob")
    sam = served.run(remote_actor(served.site, "https://spam.example/users/sam"))
    forwarded = alice.report(sam, comment="ads", forward=True)
    assert forwarded.forwarded is True and forwarded.target_account.acct == "sam@spam.example"
    kept = alice.report(sam, comment="more ads")                 # not asked: stays here
    local = alice.report(bob.me().id, comment="rude", forward=True)
    assert kept.forwarded is False and local.forwarded is False  # bob's server is this one

    async def queued_reports() -> list[int | None]:
        async with served.site.node.db.read() as conn:
            return list((await conn.execute(select(federation_queue.c.report).where(
                federation_queue.c.report.is_not(None)))).scalars())
    assert served.run(queued_reports()) == [int(forwarded.id)]
