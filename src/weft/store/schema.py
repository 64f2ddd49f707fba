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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

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
    # A home timeline's boosts: the newest of each followed author, as posts have ix_posts_author_ts.
    Index("ix_reactions_author_ts", "author", "ts"),
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
    # The newest profile's "locked": follows then wait for a follow_accept (migration 0004).
    Column("locked", Boolean, nullable=False, server_default=text("false")),
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

# Where an identity moved (its newest ``move`` entry; migration 0010, decision 0007
# "Migration"): a hosted account's or a Fediverse actor's alike.
moves = Table(
    "moves",
    metadata,
    Column("identity", BigInteger, primary_key=True, autoincrement=False),   # who moved
    Column("target", BigInteger, nullable=False),                 # identities.id of where to
    Column("entry", BigInteger, nullable=False),                  # the move entry (entries.id)
    Column("ts", BigInteger, nullable=False),
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

# -- hosted accounts and what the server face keeps (migration 0004) --------------------

# Node-wide settings an admin changes at run time (registration mode, the server's title).
node_settings = Table(
    "node_settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", LargeBinary, nullable=False),     # JSON
)

# A person signed up with a password. Their identity is a self-certifying DID like any
# other; the node holds its web-device key and a low-ranked rotation key, sealed with the
# node secret, and the recovery key until the person says they have kept it.
accounts = Table(
    "accounts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("identity", BigInteger, nullable=False, unique=True),
    Column("username", Text, nullable=False),
    Column("username_key", Text, nullable=False, unique=True),   # lowercased: one Alice per node
    Column("password_hash", Text, nullable=False),               # argon2id, encoded with its parameters
    Column("email", Text, nullable=True),
    Column("role", Text, nullable=False, server_default=text("'user'")),      # user | admin
    Column("state", Text, nullable=False, server_default=text("'active'")),   # active | pending | disabled
    Column("created_at", BigInteger, nullable=False),
    Column("device_key", LargeBinary, nullable=False),
    Column("rotation_key", LargeBinary, nullable=False),
    Column("recovery_key", LargeBinary, nullable=True),
    Column("settings", LargeBinary, nullable=False),             # JSON: default visibility, locale, …
    Column("reason", Text, nullable=True),                       # why they want in, when approval is on
    Index("ix_accounts_email", "email"),
)

# Only hashes of bearer secrets are stored (sessions, reset links, OAuth codes and tokens):
# a copy of the database lets no one in.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("token_hash", LargeBinary, nullable=False, unique=True),
    Column("account", BigInteger, nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("user_agent", Text, nullable=True),
    Index("ix_web_sessions_account", "account"),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("account", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("client_id", Text, nullable=False, unique=True),
    Column("secret_hash", LargeBinary, nullable=False),
    Column("name", Text, nullable=False),
    Column("website", Text, nullable=True),
    Column("redirect_uris", Text, nullable=False),     # newline-separated
    Column("scopes", Text, nullable=False),            # space-separated
    Column("created_at", BigInteger, nullable=False),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", LargeBinary, primary_key=True),
    Column("app", BigInteger, nullable=False),
    Column("account", BigInteger, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("challenge", Text, nullable=True),          # PKCE
    Column("challenge_method", Text, nullable=True),
    Column("expires_at", BigInteger, nullable=False),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("token_hash", LargeBinary, nullable=False, unique=True),
    Column("app", BigInteger, nullable=True),
    Column("account", BigInteger, nullable=True),      # NULL: an app's own client-credentials token
    Column("scopes", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_oauth_tokens_account", "account"),
)

# Private to one account, so never entries: bookmarks, read markers, uploaded media.
bookmarks = Table(
    "bookmarks",
    metadata,
    Column("account", BigInteger, primary_key=True, autoincrement=False),   # the account's identity row
    Column("post", BigInteger, primary_key=True, autoincrement=False),   # posts.entry
    Column("ts", BigInteger, nullable=False),
    Index("ix_bookmarks_account_ts", "account", "ts"),
)

markers = Table(
    "markers",
    metadata,
    Column("account", BigInteger, primary_key=True, autoincrement=False),
    Column("timeline", Text, primary_key=True),        # home | notifications
    Column("last_read_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

media = Table(
    "media",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("account", BigInteger, nullable=False),
    Column("state", Text, nullable=False),             # processing | ready | failed
    Column("blob", Text, nullable=True),               # sha256 hex of the processed file
    Column("thumb", Text, nullable=True),
    Column("mime", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("meta", LargeBinary, nullable=True),        # JSON, Mastodon's meta shape
    Column("blurhash", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("post", BigInteger, nullable=True),         # posts.entry, once attached
    Index("ix_media_blob", "blob"),
)

# Blobs an imported archive carried (migration 0013): held while the post or profile entry
# naming them lives, as upload rows hold uploads (weft.store.carried_blobs).
carried_blobs = Table(
    "carried_blobs",
    metadata,
    Column("entry", BigInteger, primary_key=True, autoincrement=False),  # entries.id naming the blob
    Column("blob", Text, primary_key=True),                             # sha256 hex
    Index("ix_carried_blobs_blob", "blob"),
)

# Folded from entries like the other views (store/social.py).
post_tags = Table(
    "post_tags",
    metadata,
    Column("tag", Text, primary_key=True),
    Column("post", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", BigInteger, nullable=False),
    Index("ix_post_tags_tag_ts", "tag", "ts"),
    Index("ix_post_tags_ts", "ts"),
)

post_mentions = Table(
    "post_mentions",
    metadata,
    Column("identity", BigInteger, primary_key=True, autoincrement=False),
    Column("post", BigInteger, primary_key=True, autoincrement=False),
    Index("ix_post_mentions_post", "post"),
)

# A locked identity's answer to a follow (follow_accept / follow_reject entries).
follow_grants = Table(
    "follow_grants",
    metadata,
    Column("source", BigInteger, primary_key=True, autoincrement=False),   # the one followed
    Column("target", BigInteger, primary_key=True, autoincrement=False),   # the follower
    Column("active", Boolean, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("entry", BigInteger, nullable=False),
)

MENTION, REPLY, FAVOURITE, REBLOG, FOLLOWED, FOLLOW_REQUEST = 1, 2, 3, 4, 5, 6
NOTIFICATION_KINDS = {MENTION: "mention", REPLY: "reply", FAVOURITE: "favourite", REBLOG: "reblog",
                      FOLLOWED: "follow", FOLLOW_REQUEST: "follow_request"}

# For local identities only, written by the fold when the entry that causes one arrives.
notifications = Table(
    "notifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("identity", BigInteger, nullable=False),    # who is notified
    Column("kind", SmallInteger, nullable=False),
    Column("actor", BigInteger, nullable=False),       # who did it
    Column("entry", BigInteger, nullable=False),       # the entry that caused it
    Column("post", BigInteger, nullable=True),         # the post it is about (posts.entry)
    Column("ts", BigInteger, nullable=False),
    UniqueConstraint("identity", "kind", "entry", name="uq_notifications_once"),
    Index("ix_notifications_identity", "identity", "id"),
)

# -- federation (migration 0007; docs/protocol/foreign-entries.md, decision 0007) -------------

# The IRI each foreign entry was made of, held once: inboxes are idempotent by it, and the
# federation face finds the entry of an IRI it is told about (a reply's parent, an Undo's like).
foreign_origins = Table(
    "foreign_origins",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("entry", BigInteger, nullable=False),                  # entries.id
    Index("ix_foreign_origins_entry", "entry"),
)

# Remote ActivityPub actors as last fetched (their identity row's did is the actor IRI).
remote_actors = Table(
    "remote_actors",
    metadata,
    Column("identity", BigInteger, primary_key=True, autoincrement=False),   # identities.id
    Column("iri", Text, nullable=False, unique=True),
    Column("host", Text, nullable=False),
    Column("kind", Text, nullable=False),                         # Person, Service, Group, ...
    Column("inbox", Text, nullable=False),
    Column("shared_inbox", Text, nullable=True),
    Column("followers", Text, nullable=True),                     # its followers collection
    Column("key_id", Text, nullable=True),
    Column("public_key_pem", Text, nullable=True),
    Column("handle", Text, nullable=True),                        # user@host, once WebFinger agreed
    Column("moved_to", Text, nullable=True),
    Column("document", LargeBinary, nullable=False),              # the actor document as fetched
    Column("fetched_at", BigInteger, nullable=False),
    Index("ix_remote_actors_key_id", "key_id"),
    Index("ix_remote_actors_host", "host"),
)
# Handles are compared without case, as WebFinger compares them (migration 0014).
Index("ix_remote_actors_handle_lower", func.lower(remote_actors.c.handle))

# The RSA key each hosted identity signs its ActivityPub requests with (the private half
# sealed with the node secret, as device keys are: weft.vault).
actor_keys = Table(
    "actor_keys",
    metadata,
    Column("identity", BigInteger, primary_key=True, autoincrement=False),   # identities.id
    Column("private_sealed", LargeBinary, nullable=False),
    Column("public_pem", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# -- the federation outbox (migration 0009, decision 0007 "What goes out") --------------------

# Hosted people's entries that federate, queued by ingest in the transaction that stores them,
# and reports to forward (migration 0011); a row names the entry or the report (the store
# knows nothing of ActivityPub). A delete's row keeps what the fold drops of its target and
# its delivery needs: ids and people, no text (weft.store.outbox_facts).
federation_queue = Table(
    "federation_queue",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("entry", BigInteger, nullable=True),                   # entries.id
    Column("queued_at", BigInteger, nullable=False),
    Column("report", BigInteger, nullable=True),                  # reports.id, to go to their server
    Column("target_facts", LargeBinary, nullable=True),           # JSON, for a delete
)

# One activity to one inbox. ``next_at`` is when it is due: after a failure, the backoff; while
# a worker holds it, the end of its lease (so a killed worker's rows come back).
federation_deliveries = Table(
    "federation_deliveries",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("entry", BigInteger, nullable=True),                   # entries.id it was made of (NULL: a report's)
    Column("activity", Text, nullable=False),                     # the activity's id
    Column("actor_identity", BigInteger, nullable=False),         # identities.id of the signer
    Column("actor", Text, nullable=False),                        # its actor URL (key id = …#main-key)
    Column("inbox", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),                  # the JSON sent, built once
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_at", BigInteger, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'pending'")),   # pending | done | gone | failed
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Index("ix_federation_deliveries_due", "next_at", sqlite_where=text("state = 'pending'"),
          postgresql_where=text("state = 'pending'")),
    Index("ix_federation_deliveries_finished", "finished_at", sqlite_where=text("finished_at IS NOT NULL"),
          postgresql_where=text("finished_at IS NOT NULL")),
)

# Hosts that failed lately (the circuit breaker); a success removes the host's row.
federation_hosts = Table(
    "federation_hosts",
    metadata,
    Column("host", Text, primary_key=True),
    Column("failures", Integer, nullable=False),                  # in a row, since the last success
    Column("trips", Integer, nullable=False),                     # times marked down since then
    Column("down_until", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
)

# Server moderation (migration 0008, docs/decisions/0008-server-moderation.md): what this
# server does with whole domains of the Fediverse, and the reports people make.
domain_blocks = Table(
    "domain_blocks",
    metadata,
    Column("domain", Text, primary_key=True),                     # lower-case; covers its subdomains
    Column("severity", Text, nullable=False),                     # suspend | silence | noop
    Column("reject_media", Boolean, nullable=False),
    Column("reject_reports", Boolean, nullable=False),
    Column("public_comment", Text, nullable=False),
    Column("private_comment", Text, nullable=False),
    Column("obfuscate", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("reporter", BigInteger, nullable=True),                # identities.id; NULL: a remote server's
    Column("target", BigInteger, nullable=False),                 # identities.id of the reported person
    Column("entries", Text, nullable=False),                      # JSON list of reported entry ids (base32)
    Column("comment", Text, nullable=False),
    Column("category", Text, nullable=False),                     # spam | legal | violation | other
    Column("forward", Boolean, nullable=False),                   # a Flag is to go to the target's server
    Column("origin", Text, nullable=True, unique=True),           # a received Flag's id (idempotency)
    Column("origin_host", Text, nullable=True),                   # the server that sent it
    Column("created_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger, nullable=True),
    Column("resolved_by", BigInteger, nullable=True),             # accounts.id
    Index("ix_reports_open", "resolved_at", "id"),
)

# The remote media cache (migration 0012, docs/decisions/0009-remote-media.md): the images of
# Fediverse posts and profiles, fetched by this server, re-encoded into the blob store and
# served from here, so that a reader's browser never asks their server.
remote_media = Table(
    "remote_media",
    metadata,
    Column("key", Text, primary_key=True),                        # sha256 hex of the URL
    Column("url", Text, nullable=False),
    Column("host", Text, nullable=False),                         # the URL's host, lower-case (domain blocks)
    Column("origin", Text, nullable=True),                        # the host of whose post or profile named it
    Column("state", Text, nullable=False),                        # waiting | ready | failed | rejected
    Column("blob", Text, nullable=True),                          # sha256 hex of the re-encoded file
    Column("thumb", Text, nullable=True),
    Column("mime", Text, nullable=True),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("bytes", BigInteger, nullable=False),                  # blob + thumb, counted against the budget
    Column("created_at", BigInteger, nullable=False),
    Column("fetched_at", BigInteger, nullable=True),              # the last successful fetch: eviction's order
    Column("attempts", Integer, nullable=False),
    Column("retry_at", BigInteger, nullable=True),                # failed: tried again from then (NULL: never)
    Column("error", Text, nullable=True),
    Index("ix_remote_media_ready", "fetched_at", sqlite_where=text("state = 'ready'"),
          postgresql_where=text("state = 'ready'")),
    Index("ix_remote_media_blob", "blob"),
    Index("ix_remote_media_thumb", "thumb"),
)

# -- full-text search of posts (migration 0005, docs/decisions/0005-search.md) ------------
#
# Each backend indexes the current text and content warning of every post it shows, its
# own way, so neither is in ``metadata`` (the tables both backends have). PostgreSQL's is
# declared in ``postgresql_metadata``. SQLite's is an FTS5 virtual table of the same name,
# keyed by rowid = posts.entry, which SQLAlchemy cannot declare: its DDL is below, and FTS5
# makes its shadow tables (post_search_data, _idx, _content, _config) from it.

postgresql_metadata = MetaData()

post_search = Table(
    "post_search",
    postgresql_metadata,
    Column("post", BigInteger, primary_key=True, autoincrement=False),     # posts.entry
    Column("doc", TSVECTOR, nullable=False),                               # to_tsvector('simple', …)
    # GIN's pending list (fastupdate, the default) batches the words of new posts into the
    # tree: ingest at 2.3k entries/s against 1.1k without it (docs/decisions/0005-search.md).
    Index("ix_post_search_doc", "doc", postgresql_using="gin"),
)

# Activities the inbox verified and has not mapped yet (weft.federation.inbox_queue): the
# body as it came. ``next_at``: when it is due; while a drainer holds it, the end of its
# lease; after a failure, the backoff. ``failed_at``: given up on, kept a week for operators.
# In PostgreSQL's database; beside a SQLite database, in a file of its own (weft.store.
# inbox_queue.queue_database), so that keeping a delivery never waits for ingest's writer.
inbox_queue = Table(
    "inbox_queue",
    postgresql_metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("activity", LargeBinary, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("failed_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_inbox_queue_due", "next_at", sqlite_where=text("failed_at IS NULL"),
          postgresql_where=text("failed_at IS NULL")),
)

SQLITE_VIRTUAL_TABLES = {
    # A regular (not contentless) FTS5 table: it keeps the text it indexed, which is what
    # deleting a row from the index needs once entries.content is gone. columnsize=0: results
    # are ordered by time, not rank, so the per-row token counts would go unused.
    "post_search": "CREATE VIRTUAL TABLE post_search USING fts5(text, summary, "
                   "tokenize='unicode61 remove_diacritics 2', columnsize=0)",
}
