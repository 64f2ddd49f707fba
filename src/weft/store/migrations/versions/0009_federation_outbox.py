"""federation outbox: the queue ingest fills, deliveries per inbox, the hosts' circuit breaker

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "federation_queue",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("queued_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "federation_deliveries",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("actor_identity", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("inbox", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_federation_deliveries_due", "federation_deliveries", ["next_at"],
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_federation_deliveries_finished", "federation_deliveries", ["finished_at"],
                    sqlite_where=sa.text("finished_at IS NOT NULL"),
                    postgresql_where=sa.text("finished_at IS NOT NULL"))
    op.create_table(
        "federation_hosts",
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("down_until", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("host"),
    )


def downgrade() -> None:
    op.drop_table("federation_hosts")
    op.drop_index("ix_federation_deliveries_finished", table_name="federation_deliveries")
    op.drop_index("ix_federation_deliveries_due", table_name="federation_deliveries")
    op.drop_table("federation_deliveries")
    op.drop_table("federation_queue")
