"""reactions by (author, ts): the boosts of a home timeline

The home timeline merges the boosts of whom a person follows with their posts. Without
an index on the booster, a page would read every reaction held; with it, each followed
author's newest reactions are one index probe, as their posts are (ix_posts_author_ts).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reactions_author_ts", "reactions", ["author", "ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reactions_author_ts", table_name="reactions")
