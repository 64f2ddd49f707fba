"""Alembic migrations of the weft schema (run by ``weft.store.migrate``)."""
