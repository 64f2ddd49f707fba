"""The search service (social.search), on SQLite and PostgreSQL: posts found only by whom
may see them, people by name or by a link to them, hashtags with their history, trends."""

from __future__ import annotations

import pytest

from weft.accounts import Account
from weft.errors import NotFound, UsageError
from weft.node import Node
from weft.site import Site
from weft.social import Draft

ENV = {"WEFT_RATE_LIMITS": "off", "WEFT_NODE_SECRET": "aa" * 32}


async def test_search_finds_what_each_viewer_may_see(any_config) -> None:
    async with Node.open(any_config("n")) as node:
        site = Site.for_node(node, "http://social.test", environ=ENV)
        social, search = site.social, site.social.search
        alice = await site.accounts.sign_up("alice", "a long password", by_admin=True, display_name="Alice")
        bob = await site.accounts.sign_up("bob", "a long password", by_admin=True)
        carol = await site.accounts.sign_up("carol", "a long password", by_admin=True)
        await social.following.relate(bob, alice.identity, "follow")
        posts = {visibility: await social.posting.compose(alice, Draft(f"walrus {visibility} #Zoo",
                                                                        visibility=visibility))
                 for visibility in ("public", "unlisted", "followers")}
        direct = await social.posting.compose(alice, Draft("walrus for @carol", visibility="direct"))

        async def found(viewer: Account | None) -> set[int]:
            return {s.id for s in await search.posts(viewer, "walrus")}

        public = {posts["public"].id, posts["unlisted"].id}
        assert await found(None) == public
        assert await found(bob) == public | {posts["followers"].id}
        assert await found(carol) == public | {direct.id}
        assert await found(alice) == public | {posts["followers"].id, direct.id}
        assert [s.id for s in await search.posts(bob, "walrus", limit=1, offset=1)] == [posts["unlisted"].id]  # newest first
        assert await search.posts(bob, "walrus", account=bob.identity) == []

        link = f"http://social.test/@alice/{posts['followers'].id}"
        assert [s.id for s in await search.posts(bob, link)] == [posts["followers"].id]
        assert await search.posts(carol, link) == []
        assert await search.posts(None, "http://social.test/@alice/999") == []

        assert [p.username for p in await search.accounts(None, "ali")] == ["alice"]
        for name in ("@alice", "alice@social.test", "http://social.test/@alice", "Alice"):
            assert [p.username for p in await search.accounts(None, name)] == ["alice"], name
        assert await search.accounts(None, "alice@elsewhere.example") == []
        assert [p.username for p in await search.accounts(bob, "", following=False)] == []
        assert [p.username for p in await search.accounts(bob, "a", following=True)] == ["alice"]
        assert await search.accounts(carol, "a", following=True) == []
        with pytest.raises(UsageError):
            await search.accounts(None, "a", following=True)
        with pytest.raises(UsageError):
            await search.posts(None, "x" * 1001)

        tags = await search.hashtags("#zo")
        assert [t.name for t in tags] == ["zoo"] and len(tags[0].history) == 7
        assert tags[0].history[0].uses == 1 and tags[0].history[0].accounts == 1  # public posts, today first
        assert (await search.trending())[0].name == "zoo"
        assert (await search.tag("#ZOO")).history[0].uses == 1
        assert sum(day.uses for day in (await search.tag("unused")).history) == 0
        with pytest.raises(NotFound):
            await search.tag("not a tag")

        both = await search.everything(carol, "walrus", kinds=("statuses", "hashtags"))
        assert {s.id for s in both.statuses} == public | {direct.id} and both.accounts == []
        with pytest.raises(UsageError):
            await search.everything(carol, "walrus", kinds=("groups",))
        await social.close()
