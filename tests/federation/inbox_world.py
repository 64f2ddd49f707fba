"""One served weft node and one fake Fediverse server per backend, shared by a test module
(tests use actors of their own, so they do not see each other's follows and posts)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from sqlalchemy import select

from weft.accounts import Account
from weft.federation.urls import actor_url
from weft.store.database import Database
from weft.store.schema import entries, identities, posts

from ..conftest import SessionLoop, backend_config
from ..web.site_server import RunningSite, serving
from .fediverse_fake import FakeActor, FakeServer

__all__ = ["ENV", "World", "world"]

ENV = {"WEFT_FEDERATION_ALLOW_PRIVATE": "1", "WEFT_FEDERATION_ALLOW_HTTP": "1", "WEFT_RATE_LIMITS": "off",
       "WEFT_NODE_SECRET": "ab" * 32}


@dataclass
class World:
    node: RunningSite
    remote: FakeServer
    alice: Account

    @property
    def inbox(self) -> str:
        return f"{self.node.url}/inbox"

    @property
    def alice_iri(self) -> str:
        return actor_url(self.node.url, "alice")

    @property
    def db(self) -> Database:
        return self.node.site.node.db

    def actor(self, **fields: Any) -> FakeActor:
        return self.remote.add_actor(f"u{uuid4().hex[:10]}", **fields)

    async def identity(self, iri: str) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(identities.c.id).where(identities.c.did == iri))).scalar_one())

    async def posts_by(self, iri: str) -> list[tuple[bool, bytes]]:
        who = await self.identity(iri)
        async with self.db.read() as conn:
            rows = await conn.execute(select(posts.c.deleted, entries.c.entry_id)
                                      .join(entries, entries.c.id == posts.c.entry).where(posts.c.author == who))
            return [(deleted, bytes(entry_id)) for deleted, entry_id in rows.all()]

    async def contents_by(self, identity: int) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(entries.c.content).where(entries.c.author == identity)
                                      .order_by(entries.c.id))
            return [orjson.loads(content) for (content,) in rows.all() if content is not None]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, runner: SessionLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    stack = contextlib.AsyncExitStack()
    path: Path = tmp_path_factory.mktemp("inbox")

    async def start() -> World:
        remote = await stack.enter_async_context(FakeServer.serving())
        node = await stack.enter_async_context(serving(config, environ=ENV))
        assert node.site.federation is not None
        remote.weft_nodes[node.url] = node.site.federation.inbox_queue.settled
        alice = await node.site.accounts.sign_up("alice", "a long password", by_admin=True)
        return World(node, remote, alice)

    with backend_config(request, runner, path / "n", request.param) as config:
        try:
            yield runner.run(start())
        finally:
            runner.run(stack.aclose())
