"""Migration 0005 indexes the posts a node already holds, as the fold would have."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

import weft.store.migrate
from weft.ingest import Ingest
from weft.store import search
from weft.store.database import Database
from weft.store.migrate import HEAD, migrate

from .test_search import rows
from .world import Author, admit, introduce


def _downgrade_to(revision: str, connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(weft.store.migrate.__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def revision(db: Database) -> str:
    async with db.read() as conn:
        return str((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())


async def test_upgrading_indexes_the_current_text_of_the_posts_held(database: Database, clock) -> None:
    alice = Author(clock)
    plain = alice.phone.post("written before search existed", summary="old warning")
    edited = alice.phone.post("stale wording")
    deleted = alice.phone.post("deleted wording")
    async with Ingest(database, clock) as ingest:
        await introduce(ingest, alice)
        await admit(ingest, plain, edited, deleted)
        await admit(ingest, alice.phone.edit(edited, "fresh wording"), alice.phone.delete(deleted))
    plain_row, edited_row = await rows(database, plain, edited)
    async with database.write() as conn:
        await conn.run_sync(lambda sync: _downgrade_to("0004", sync))
    assert await revision(database) == "0004"
    await migrate(database)
    assert await revision(database) == HEAD
    async with database.read() as conn:
        async def find(query: str) -> list[int]:
            return await search.search_posts(conn, query, None, limit=10, offset=0, now_ms=clock())

        assert await find("existed") == [plain_row]
        assert await find("warning") == [plain_row]
        assert await find("wording") == [edited_row]
        assert await find("fresh") == [edited_row]
        assert await find("stale") == []
        assert await find("deleted") == []
