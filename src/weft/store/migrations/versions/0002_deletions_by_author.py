"""deletions keyed by (target, author)

A delete by someone other than the target's author must not take the place of
the author's own delete: with ``target`` alone as the key, whichever arrived
first was kept, so a stranger's delete arriving before the author's (and before
the target) let the target's content in. Each author's delete now has its row.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rebuild(key: list[str]) -> None:
    op.create_table(
        "deletions_next",
        sa.Column("target", sa.LargeBinary(), nullable=False),
        sa.Column("author", sa.BigInteger(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="deletions_next_pkey"),
    )
    op.execute("INSERT INTO deletions_next (target, author, entry) SELECT target, author, entry FROM deletions")
    op.drop_table("deletions")
    op.rename_table("deletions_next", "deletions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deletions RENAME CONSTRAINT deletions_next_pkey TO deletions_pkey")


def upgrade() -> None:
    _rebuild(["target", "author"])


def downgrade() -> None:
    op.execute("DELETE FROM deletions WHERE entry NOT IN (SELECT min(entry) FROM deletions GROUP BY target)")
    _rebuild(["target"])
