"""Bring a database to the newest schema with Alembic.

Checking the recorded revision first keeps every CLI command from paying for
Alembic's start-up when nothing needs to change.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from weft.store.database import Database

__all__ = ["HEAD", "migrate"]

_MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0015"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _upgrade(connection: Connection) -> None:
    command.upgrade(_config(connection), "head")


async def migrate(db: Database) -> None:
    """Upgrade to HEAD if the database is older; a no-op (one query) when it is current."""
    async with db.read() as conn:
        current = await conn.run_sync(_current)
    if current == HEAD:
        return
    async with db.write() as conn:
        await conn.run_sync(_upgrade)
