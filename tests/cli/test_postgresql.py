"""The CLI on PostgreSQL: WEFT_DATABASE_URL with a schema of its own, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from .program import out, weft


@pytest.fixture
def pg_env(postgres_url: str, runner: object) -> Iterator[dict[str, str]]:
    schema = f"cli_{uuid4().hex[:12]}"
    yield {"WEFT_DATABASE_URL": f"{postgres_url}?schema={schema}"}

    async def drop() -> None:
        conn = await asyncpg.connect(postgres_url, timeout=10)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    runner.run(drop())  # type: ignore[attr-defined]


def test_the_cli_works_on_postgresql(tmp_path: Path, pg_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    did = out(weft("init", "--name", "Pat", data=home, env=pg_env))
    assert not (home / "weft.db").exists()  # the database is elsewhere
    post = out(weft("post", "stored in PostgreSQL", data=home, env=pg_env))
    weft("like", post[:8], data=home, env=pg_env)
    feed = weft("feed", "--json", data=home, env=pg_env).json()
    assert isinstance(feed, list)
    assert [(item["id"], item["author"], item["likes"]) for item in feed] == [(post, did, 1)]
