"""The one schema, for SQLite and PostgreSQL alike.

Entries keep their signed header bytes verbatim (so they can be served and
re-verified without re-encoding) and their content in a nullable column that
delete and expiry set to NULL. Views are folded from entries and refer to them
by row id; texts are never copied into views, so a delete has one place to
remove them from. No foreign-key constraints: ingest is the only writer and
checks its own references, and constraint checks would cost a lookup per row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# On SQLite a primary key must be declared INTEGER to alias the rowid (no extra index).
RowId = BigInteger().with_variant(Integer(), "sqlite")

identities = Table(
    "identities",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("did", Text, nullable=False, unique=True),
    # Canonical JSON of the current IdentityState; NULL while the DID is only referenced.
    Column("state", LargeBinary, nullable=True),
    Column("local", Boolean, nullable=False, server_default=text("false")),
)

identity_ops = Table(
    "identity_ops",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("identity", BigInteger, nullable=False),
    # Index in the identity's chain; NULL once superseded by a recovery (kept as evidence).
    Column("position", Integer, nullable=True),
    Column("op_id", LargeBinary, nullable=False, unique=True),
    Column("raw", LargeBinary, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("superseded_by", LargeBinary, nullable=True),
    Index("ix_identity_ops_chain", "identity", "position"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("identity", BigInteger, nullable=False),
    Column("head_seq", BigInteger, nullable=False, server_default=text("0")),
    Column("head_id", LargeBinary, nullable=True),
    Column("forked", Boolean, nullable=False, server_default=text("false")),
    Index("ix_devices_identity", "identity"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("entry_id", LargeBinary, nullable=False),
    Column("device", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("author", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=True),
    Column("header", LargeBinary, nullable=False),
    Column("content", LargeBinary, nullable=True),
    UniqueConstraint("device", "seq", name="uq_entries_device_seq"),
    Index("ux_entries_entry_id", "entry_id", unique=True),
    Index("ix_entries_expiring", "expires", sqlite_where=text("expires IS NOT NULL"),
          postgresql_where=text("expires IS NOT NULL")),
)

forks = Table(
    "forks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("device", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("held", LargeBinary, nullable=False),
    Column("offered", LargeBinary, nullable=False),
    Column("detected_at", BigInteger, nullable=False),
)

VISIBILITY_CODES = {"public": 0, "unlisted": 1, "followers": 2, "direct": 3}

posts = Table(
    "posts",
    metadata,
    Column("entry", BigInteger, primary_key=True, autoincrement=False),
    Column("author", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("reply_to", LargeBinary, nullable=True),
    Column("root", LargeBinary, nullable=True),
    Column("visibility", SmallInteger, nullable=False, server_default=text("0")),
    # The entry whose content holds the current text: the post itself or its latest edit.
    Column("text_entry", BigInteger, nullable=False),
    Column("edited_ts", BigInteger, nullable=True),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Column("expires", BigInteger, nullable=True),
    Index("ix_posts_author_ts", "author", "ts"),
    Index("ix_posts_ts", "ts"),
    Index("ix_posts_root", "root", sqlite_where=text("root IS NOT NULL"),
          postgresql_where=text("root IS NOT NULL")),
    Index("ix_posts_reply_to", "reply_to", sqlite_where=text("reply_to IS NOT NULL"),
          postgresql_where=text("reply_to IS NOT NULL")),
)

edits = Table(
    "edits",
    metadata,
    Column("entry", BigInteger, primary_key=True, autoincrement=False),
    Column("target", LargeBinary, nullable=False),
    Column("author", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index("ix_edits_target", "target"),
)

LIKE, BOOST = 1, 2

reactions = Table(
    "reactions",
    metadata,
    Column("entry", BigInteger, primary_key=True, autoincrement=False),
    Column("target", LargeBinary, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("author", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index("ux_reactions_once", "target", "kind", "author", unique=True),
)

FOLLOW, BLOCK, MUTE = 1, 2, 3
RELATION_CODES = {"follow": FOLLOW, "block": BLOCK, "mute": MUTE}

relations = Table(
    "relations",
    metadata,
    Column("source", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", SmallInteger, primary_key=True, autoincrement=False),
    Column("target", BigInteger, primary_key=True, autoincrement=False),
    Column("active", Boolean, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("entry", BigInteger, nullable=False),
    Index("ix_relations_target", "target", "kind"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("identity", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
)

# Targets of delete entries, kept so that a target arriving after its delete
# (from another device's log) is stored without its content. One row per deleting
# author: until the target arrives nobody knows whose delete counts (migration 0002).
deletions = Table(
    "deletions",
    metadata,
    Column("target", LargeBinary, primary_key=True),
    Column("author", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", BigInteger, nullable=False),
)

# Nodes this node replicates with (weft peers add, LAN discovery, home nodes named in
# identity logs), and how it went: the scheduler's memory (migration 0003).
peers = Table(
    "peers",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("host", Text, nullable=False),
    Column("port", Integer, nullable=False),
    # The node's transport key (did:key), pinned at first contact when not given.
    Column("key", Text, nullable=True),
    Column("source", Text, nullable=False),          # manual | lan | home
    Column("added_at", BigInteger, nullable=False),
    Column("last_attempt", BigInteger, nullable=True),
    Column("last_success", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt", BigInteger, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("entries_received", BigInteger, nullable=False, server_default=text("0")),
    Column("entries_sent", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint("host", "port", name="uq_peers_address"),
)
