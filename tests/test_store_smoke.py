"""The test fixtures give a working, migrated database on both backends."""

import warnings

from sqlalchemy import insert, select

from weft.store.database import Database
from weft.store.schema import identities


async def test_an_identity_row_written_is_read_back(database: Database) -> None:
    did = "did:weft:smoketestsmoketestsmoketest"
    async with database.write() as conn:
        await conn.execute(insert(identities).values(did=did, local=True))
    async with database.read() as conn:
        row = (await conn.execute(
            select(identities.c.did, identities.c.state, identities.c.local)
            .where(identities.c.did == did))).one()
    assert tuple(row) == (did, None, True)


async def test_the_migrations_build_exactly_the_schema_the_code_declares(database: Database) -> None:
    # A column or index added to schema.py without a migration (or the other way round)
    # would work in tests that create tables from one and fail on upgraded nodes.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from weft.store.schema import SQLITE_VIRTUAL_TABLES, metadata, postgresql_metadata

    def differences(sync_conn) -> list:
        # SQLite's FTS5 tables (and the shadow tables FTS5 makes) cannot be reflected or
        # declared as tables: they are compared as DDL below. PostgreSQL has tables of its own.
        def declared(name, type_, _parents) -> bool:
            return type_ != "table" or not any(name == table or name.startswith(table + "_")
                                                for table in SQLITE_VIRTUAL_TABLES)

        opts = {"compare_type": True}
        if sync_conn.dialect.name == "sqlite":
            opts["include_name"] = declared
        context = MigrationContext.configure(sync_conn, opts=opts)
        declaring = [metadata] if sync_conn.dialect.name == "sqlite" else [metadata, postgresql_metadata]
        with warnings.catch_warnings():
            # SQLAlchemy reflects no expression index on SQLite (nor compares it): those are
            # checked by their DDL below.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
            return [diff for diff in compare_metadata(context, declaring) if not _ignorable(diff)]

    def expression_indexes(sync_conn) -> set[str]:
        rows = sync_conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(lower(%'")
        return {name for (name,) in rows.all()}

    def virtual_tables(sync_conn) -> dict[str, str]:
        rows = sync_conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")
        return dict(rows.all())

    async with database.read() as conn:
        assert await conn.run_sync(differences) == []
        if database.dialect == "sqlite":
            assert await conn.run_sync(virtual_tables) == SQLITE_VIRTUAL_TABLES
            assert await conn.run_sync(expression_indexes) == {"ix_remote_actors_handle_lower"}


def _ignorable(diff) -> bool:
    # Alembic's own bookkeeping table is not part of our schema.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
