"""federation queue: reports to forward, and what a delete's target was (its audience)

A queue row names an entry or a report (a Flag to the reported person's server), so its
entry may be NULL, and so may a delivery's. A delete's row keeps the facts of its target
that the fold drops and the delivery needs (docs/decisions/0007-federation.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("federation_queue", schema=None) as batch_op:
        batch_op.alter_column("entry", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("report", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("target_facts", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("federation_deliveries", schema=None) as batch_op:
        batch_op.alter_column("entry", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM federation_deliveries WHERE entry IS NULL")
    op.execute("DELETE FROM federation_queue WHERE entry IS NULL")
    with op.batch_alter_table("federation_deliveries", schema=None) as batch_op:
        batch_op.alter_column("entry", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("federation_queue", schema=None) as batch_op:
        batch_op.drop_column("target_facts")
        batch_op.drop_column("report")
        batch_op.alter_column("entry", existing_type=sa.BigInteger(), nullable=False)
