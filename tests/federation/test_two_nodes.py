"""Two weft nodes federating over real HTTP on loopback, each under a name of its own
(WEFT_FEDERATION_HOSTS), with their outbox workers running: alice on one follows bob on the
other by handle, bob's server accepts, and posts, replies, likes, edits, deletes and a
followers-only post flow both ways; a suspended domain is cut off."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from weft.config import NodeConfig
from weft.social import Draft
from weft.store.statuses import Page

from ..web.site_server import RunningSite, serving, sign_in

WAIT_S = 20.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds: deliveries are asynchronous."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def two_nodes(tmp_path: Path, config: Callable[[str], NodeConfig] | None = None,
                    ) -> AsyncIterator[tuple[RunningSite, RunningSite]]:
    """Nodes at http://a.test:PORT and http://b.test:PORT, both on 127.0.0.1; on SQLite
    unless ``config`` (the ``any_config`` fixture's factory) says otherwise."""
    import socket

    ports = []
    for _ in range(2):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        ports.append(probe.getsockname()[1])
        probe.close()
    env = {"WEFT_RATE_LIMITS": "off", "WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1",
           "WEFT_FEDERATION_HOSTS": "a.test=127.0.0.1 b.test=127.0.0.1"}
    async with contextlib.AsyncExitStack() as stack:
        nodes = []
        for name, port in zip(("a", "b"), ports, strict=True):
            running = await stack.enter_async_context(serving(
                config(name) if config else NodeConfig.resolve(tmp_path / name, None), environ=env, public_url=f"http://{name}.test:{port}",
                port=port))
            assert running.site.federation is not None
            running.site.federation.outbox.start()
            nodes.append(running)
        yield nodes[0], nodes[1]


async def texts_at_home(site: RunningSite, username: str) -> list[str]:
    account = await site.site.accounts.by_username(username)
    shown = await site.site.social.statuses.timeline(account, "home", Page(limit=40))
    return [status.row.text or "" for status in shown]


@pytest.mark.timeout(180)
async def test_two_nodes_follow_post_reply_like_edit_delete_and_suspend(tmp_path: Path) -> None:
    async with two_nodes(tmp_path) as (a, b):
        alice = await a.site.accounts.sign_up("alice", "a fine password", by_admin=True)
        bob = await b.site.accounts.sign_up("bob", "a fine password", by_admin=True)
        b_host = b.site.host
        assert a.site.directory is not None

        await b.site.accounts.sign_up("carol", "a fine password", by_admin=True)
        async with a.client() as browser:                                   # the web's search looks people up
            assert (await sign_in(browser, "alice", "a fine password")).status_code == 303
            found = await browser.get("/search", params={"q": f"@carol@{b_host}"})
            assert found.status_code == 200 and f"carol@{b_host}" in found.text

        bob_here = await a.site.directory.resolve(f"bob@{b_host}")           # WebFinger, then the actor
        assert bob_here is not None
        await a.site.social.following.relate(alice, bob_here, "follow")

        async def alice_follows_bob() -> bool:
            [relation] = await a.site.social.following.relationships(alice, [bob_here])
            return relation.following and not relation.requested
        await eventually(alice_follows_bob, "bob's server to accept alice's follow")
        bob_person = await b.site.social.following.person(bob.identity)
        assert bob_person.followers == 1

        hello = await b.site.social.posting.compose(bob, Draft("hello from b"))
        await eventually(lambda: _has(texts_at_home(a, "alice"), "hello from b"), "bob's post at alice's home")

        [held] = [s for s in await a.site.social.statuses.timeline(alice, "home", Page(limit=40))
                  if s.row.text == "hello from b"]
        reply = await a.site.social.posting.compose(alice, Draft("hi bob, from a", reply_to=held.id))
        await a.site.social.posting.react(alice, held.id, "favourite", on=True)

        async def bob_sees_reply_and_like() -> bool:
            _, replies = await b.site.social.statuses.context(bob, hello.id)
            status = await b.site.social.statuses.status(bob, hello.id)
            return [r.row.text for r in replies] == ["hi bob, from a"] and status.row.likes == 1
        await eventually(bob_sees_reply_and_like, "alice's reply and like at bob's server")
        meeting = await a.site.social.posting.compose(alice, Draft(f"have you met @carol@{b_host}? she is lovely"))

        async def carol_is_mentioned() -> bool:   # a handle with a port, as servers on one machine have
            carol = await b.site.accounts.by_username("carol")
            return "mention" in [n.kind for n in await b.site.social.notices.page(carol, limit=20)]
        await eventually(carol_is_mentioned, "alice's mention of carol at b")
        assert reply.row.reply_to == held.row.entry_id      # at a, bob's post is a foreign entry of its own

        await b.site.social.posting.edit(bob, hello.id, text="hello from b, edited")
        await eventually(lambda: _has(texts_at_home(a, "alice"), "hello from b, edited"), "the edit at a")

        secret = await b.site.social.posting.compose(bob, Draft("for my followers", visibility="followers"))
        await eventually(lambda: _has(texts_at_home(a, "alice"), "for my followers"), "a followers-only post")
        public = await a.site.social.statuses.timeline(None, "public", Page(limit=40))
        assert "for my followers" not in [s.row.text for s in public]

        await b.site.social.posting.delete(bob, secret.id)
        await eventually(lambda: _lacks(texts_at_home(a, "alice"), "for my followers"), "the delete at a")

        await a.site.social.moderation.block_domain("b.test", "suspend")
        assert await texts_at_home(a, "alice") == [meeting.row.text, reply.row.text]   # bob's are gone from a
        await b.site.social.posting.compose(bob, Draft("anyone there?"))
        await asyncio.sleep(1.0)
        assert "anyone there?" not in await texts_at_home(a, "alice")


async def _has(texts: Awaitable[list[str]], text: str) -> bool:
    return text in await texts


async def _lacks(texts: Awaitable[list[str]], text: str) -> bool:
    return text not in await texts
