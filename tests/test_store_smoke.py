"""The test fixtures give a working, migrated database on both backends."""

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

    from weft.store.schema import metadata

    def differences(sync_conn) -> list:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, metadata) if not _ignorable(diff)]

    async with database.read() as conn:
        assert await conn.run_sync(differences) == []


def _ignorable(diff) -> bool:
    # Alembic's own bookkeeping table is not part of our schema.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
