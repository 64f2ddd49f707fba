"""Alice leaving node A: what she takes to another node, made for real on a node of its own.

On A she signs up, writes a profile, posts, replies to Bob, likes posts, edits one post and
deletes another, then downloads her recovery key and her archive. After the archive is made
A's old web device signs one more post: an entry the node she arrives at must refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from weft.archive import export_archive
from weft.config import NodeConfig
from weft.core.keys import SigningKey
from weft.keyring import key_file_text
from weft.node import Node
from weft.site import Site
from weft.social import Draft
from weft.store import accounts as account_store
from weft.store.entries import device_heads

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}
PASSWORD = "alice's long password"


@dataclass(frozen=True)
class Departure:
    did: str
    archive: Path
    recovery_key: str           # the key file's text, as /settings/recovery-key sends it
    bob_recovery_key: str       # another identity's recovery key
    rotation_key: str           # A's own (lower-ranked) rotation key of alice, as a key file
    old_device: str             # did:key of the web device alice wrote with on A
    old_seq: int                # its last seq in the archive
    later: tuple[bytes, bytes]  # (header, content) A's old device signed after the archive
    texts: frozenset[str]       # the texts of the posts the archive keeps
    gone: str                   # the text of the post she deleted
    edited: str                 # the edited post's text now


async def depart(config: NodeConfig, folder: Path) -> Departure:
    async with Node.open(config) as node:
        site = Site.for_node(node, "http://a.test", environ=ENV)
        posting = site.social.posting
        alice = await site.accounts.sign_up("alice", PASSWORD, display_name="Alice of A", by_admin=True)
        bob = await site.accounts.sign_up("bob", "bob's long password", by_admin=True)
        await node.publish({"type": "profile", "name": "Alice Archived", "bio": "moving soon"},
                           author=site.accounts.author(alice))
        bobs = await posting.compose(bob, Draft("bob's question"))
        first = await posting.compose(alice, Draft("first post"))
        second = await posting.compose(alice, Draft("second post, soon deleted"))
        reply = await posting.compose(alice, Draft("an answer to bob", reply_to=bobs.id))
        await posting.react(alice, bobs.id, "favourite", on=True)
        await posting.react(alice, first.id, "favourite", on=True)
        await posting.edit(alice, first.id, text="first post, edited")
        await posting.delete(alice, second.id)
        assert reply.row.text == "an answer to bob"
        recovery_key = await site.accounts.recovery_key_text(alice)
        bob_key = await site.accounts.recovery_key_text(bob)
        async with node.db.read() as conn:
            row = await account_store.account_by(conn, id=alice.id)
        assert row is not None
        rotation = key_file_text(SigningKey(site.accounts.vault.open(row.rotation_key)), "rotation", alice.did)
        archive = folder / "alice.weft"
        await export_archive(node, archive, alice.did)
        device = site.accounts.author(alice).device.did
        async with node.db.read() as conn:
            old_seq = (await device_heads(conn, [device]))[device].head_seq
        await posting.compose(alice, Draft("written on A after the archive"))
        [later] = await node.device_log(device, after=old_seq, limit=1)
        assert later[1] is not None
        await site.social.close()
    return Departure(alice.did, archive, recovery_key, bob_key, rotation, device, old_seq,
                     (later[0], later[1]), frozenset({"first post, edited", "an answer to bob"}),
                     "second post, soon deleted", "first post, edited")
