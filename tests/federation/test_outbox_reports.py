"""A report forwarded to the reported person's server goes through the outbox like an entry:
queued with the report, expanded to one Flag from the instance actor to their server's
shared inbox, signed with the instance key, naming the person and the reported posts and
never the reporter (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.conftest import FakeClock
from weft.core.foreign import make_foreign
from weft.core.ids import entry_id_text
from weft.federation.urls import INSTANCE_ACTOR_ID, instance_actor_url, instance_key_id
from weft.ingest import ForeignOffer
from weft.store import identities as identity_store

from .outbox_world import BASE, inboxes, loopback_client, world

SPAM_NOTE = "https://spam.example/notes/1"


async def test_a_forwarded_report_is_a_flag_from_the_instance_to_their_server(any_config: Any) -> None:
    clock = FakeClock()
    async with inboxes(clock) as boxes, world(any_config("n"), clock) as w, loopback_client() as client:
        await w.expand()                                       # the profile sign-up wrote
        sam = await w.follower("sam", "spam.example", boxes, follows=False)
        entry, data = make_foreign({"type": "post", "text": "buy now", "visibility": "public"}, author=sam,
                                   origin=SPAM_NOTE, via="signature", ts=clock())
        [stored] = await w.node.ingest.foreign([ForeignOffer(entry.raw, data)])
        assert stored.entry_id is not None
        async with w.db.read() as conn:
            sam_row = (await identity_store.identity_rows(conn, {sam}))[sam][0]
        moderation = w.site.social.moderation
        made = await moderation.report(w.alice, sam_row, entries=[entry_id_text(stored.entry_id)],
                                       comment="ads everywhere", category="spam", forward=True)
        assert (await moderation.get_report(made)).forward
        assert (await w.counts())["queued"] == 1               # queued with the report

        assert await w.expand() == 1
        [delivery] = await w.deliveries()
        assert (delivery["inbox"], delivery["entry"]) == (boxes.inbox("spam.example"), None)
        assert (delivery["actor"], delivery["actor_identity"]) == (instance_actor_url(BASE), INSTANCE_ACTOR_ID)
        key = await w.federation.keys.key(INSTANCE_ACTOR_ID)
        boxes.keys[instance_key_id(BASE)] = key.public_pem
        assert await w.deliverer(client).deliver_due() == 1
        [received] = boxes.received
        assert received.signed_by == instance_key_id(BASE) and received.path == "/inbox"
        flag = received.activity
        assert flag["type"] == "Flag" and flag["actor"] == instance_actor_url(BASE)
        assert flag["object"] == [sam, SPAM_NOTE] and flag["content"] == "ads everywhere"
        assert flag["id"].startswith(instance_actor_url(BASE) + "#")
        assert "alice" not in received.body.decode()           # the reporter stays here

        # About someone hosted here there is no other server: nothing is forwarded.
        bob = await w.site.accounts.sign_up("bob", "a long password", by_admin=True)
        await w.expand()                                       # bob's profile
        local = await moderation.report(w.alice, bob.identity, comment="rude", forward=True)
        assert not (await moderation.get_report(local)).forward
        assert (await w.counts())["queued"] == 0
