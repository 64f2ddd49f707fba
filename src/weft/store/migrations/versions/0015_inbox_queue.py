"""inbox queue: activities verified at the inbox and not yet mapped and ingested

The inbox answers 202 once a delivery's signature is verified and its body is stored here;
a drainer maps and ingests what waits, hundreds at a time (docs/decisions/0010-inbox-queue.md).
On PostgreSQL only: beside a SQLite database the queue is a file of its own.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite the queue has a database file of its own (weft.store.inbox_queue.queue_database).
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "inbox_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("activity", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbox_queue_due", "inbox_queue", ["next_at"],
                    sqlite_where=sa.text("failed_at IS NULL"), postgresql_where=sa.text("failed_at IS NULL"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("inbox_queue")
