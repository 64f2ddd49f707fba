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
