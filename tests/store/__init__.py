"""Storage tests: views, queries, deletion, on SQLite and PostgreSQL."""
