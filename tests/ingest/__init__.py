"""Ingest tests: what the one door accepts, refuses and survives, on SQLite and PostgreSQL."""
