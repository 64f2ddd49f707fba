"""remote_actors: handles indexed as they are looked up, lower-cased

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every lookup compares lower(handle): the plain index on handle served none of them.
    op.drop_index("ix_remote_actors_handle", table_name="remote_actors")
    op.create_index("ix_remote_actors_handle_lower", "remote_actors", [sa.text("lower(handle)")])


def downgrade() -> None:
    op.drop_index("ix_remote_actors_handle_lower", table_name="remote_actors")
    op.create_index("ix_remote_actors_handle", "remote_actors", ["handle"])
