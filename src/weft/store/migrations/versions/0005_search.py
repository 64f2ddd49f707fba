"""search: a full-text index of posts (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Indexes the posts already held, as the fold will index new ones: the current text and
content warning of every post not deleted whose text is still held.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000
_CONTROLS = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0))}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE post_search USING fts5(text, summary, "
                    "tokenize='unicode61 remove_diacritics 2', columnsize=0)")
        insert = sa.text("INSERT INTO post_search (rowid, text, summary) VALUES (:post, :text, :summary)")
    else:
        op.create_table(
            "post_search",
            sa.Column("post", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("doc", postgresql.TSVECTOR(), nullable=False),
            sa.PrimaryKeyConstraint("post"),
        )
        op.create_index("ix_post_search_doc", "post_search", ["doc"], unique=False, postgresql_using="gin")
        insert = sa.text("INSERT INTO post_search (post, doc) "
                         "VALUES (:post, to_tsvector('simple', :text || ' ' || :summary))")
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT p.entry, e.content FROM posts p JOIN entries e ON e.id = p.text_entry "
            "WHERE p.entry > :last AND NOT p.deleted AND e.content IS NOT NULL "
            "ORDER BY p.entry LIMIT :batch"), {"last": last, "batch": _BATCH}).all()
        if not rows:
            return
        documents = [doc for doc in (_document(post, content) for post, content in rows) if doc is not None]
        if documents:
            bind.execute(insert, documents)
        last = rows[-1][0]


def _document(post: int, content: bytes) -> dict[str, Any] | None:
    """The post's text and content warning as weft.store.search_index indexes them."""
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    parts = [value.get("text"), value.get("summary")]
    text, summary = (_clean(part) if isinstance(part, str) else "" for part in parts)
    return {"post": post, "text": text, "summary": summary} if text or summary else None


def _clean(value: str) -> str:
    return value.encode("utf-8", "ignore").decode("utf-8").translate(_CONTROLS)


def downgrade() -> None:
    op.drop_table("post_search")
