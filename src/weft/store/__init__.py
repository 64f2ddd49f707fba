"""Storage: the schema, its migrations and the queries, on SQLite or PostgreSQL.

Storage knows the core's formats but no face: nothing here imports the CLI,
the HTTP API, sync or federation.
"""
