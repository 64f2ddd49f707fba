"""carried blobs: the images an imported archive brought, held by the entries naming them

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carried_blobs",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("blob", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry", "blob"),
    )
    op.create_index("ix_carried_blobs_blob", "carried_blobs", ["blob"])


def downgrade() -> None:
    op.drop_index("ix_carried_blobs_blob", table_name="carried_blobs")
    op.drop_table("carried_blobs")
