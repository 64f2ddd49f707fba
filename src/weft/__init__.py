"""weft: a decentralized social network.

Self-certifying identities, signed per-device logs, one ingest path into
SQLite or PostgreSQL, gossip between peers and ActivityPub to the Fediverse.
"""

__version__ = "0.1.0"
