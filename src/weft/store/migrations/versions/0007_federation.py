"""federation: origins of foreign entries, remote actors, hosted identities' RSA keys

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "foreign_origins",
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    op.create_index("ix_foreign_origins_entry", "foreign_origins", ["entry"])
    op.create_table(
        "remote_actors",
        sa.Column("identity", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("iri", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("inbox", sa.Text(), nullable=False),
        sa.Column("shared_inbox", sa.Text(), nullable=True),
        sa.Column("followers", sa.Text(), nullable=True),
        sa.Column("key_id", sa.Text(), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        sa.Column("handle", sa.Text(), nullable=True),
        sa.Column("moved_to", sa.Text(), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("identity"),
        sa.UniqueConstraint("iri"),
    )
    op.create_index("ix_remote_actors_key_id", "remote_actors", ["key_id"])
    op.create_index("ix_remote_actors_host", "remote_actors", ["host"])
    op.create_index("ix_remote_actors_handle", "remote_actors", ["handle"])
    op.create_table(
        "actor_keys",
        sa.Column("identity", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("identity"),
    )


def downgrade() -> None:
    op.drop_table("actor_keys")
    op.drop_index("ix_remote_actors_handle", table_name="remote_actors")
    op.drop_index("ix_remote_actors_host", table_name="remote_actors")
    op.drop_index("ix_remote_actors_key_id", table_name="remote_actors")
    op.drop_table("remote_actors")
    op.drop_index("ix_foreign_origins_entry", table_name="foreign_origins")
    op.drop_table("foreign_origins")
