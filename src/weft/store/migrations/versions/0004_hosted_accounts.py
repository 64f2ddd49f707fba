"""hosted accounts: accounts, sessions, password resets, OAuth, bookmarks, markers, media,
tags, mentions, follow grants, notifications; profiles.locked

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('identity', sa.BigInteger(), nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('username_key', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), server_default=sa.text("'user'"), nullable=False),
    sa.Column('state', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('device_key', sa.LargeBinary(), nullable=False),
    sa.Column('rotation_key', sa.LargeBinary(), nullable=False),
    sa.Column('recovery_key', sa.LargeBinary(), nullable=True),
    sa.Column('settings', sa.LargeBinary(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity'),
    sa.UniqueConstraint('username_key')
    )
    op.create_index('ix_accounts_email', 'accounts', ['email'], unique=False)
    op.create_table('bookmarks',
    sa.Column('account', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('post', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'post')
    )
    op.create_index('ix_bookmarks_account_ts', 'bookmarks', ['account', 'ts'], unique=False)
    op.create_table('follow_grants',
    sa.Column('source', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('target', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('entry', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'target')
    )
    op.create_table('markers',
    sa.Column('account', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('timeline', sa.Text(), nullable=False),
    sa.Column('last_read_id', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'timeline')
    )
    op.create_table('media',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('blob', sa.Text(), nullable=True),
    sa.Column('thumb', sa.Text(), nullable=True),
    sa.Column('mime', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('meta', sa.LargeBinary(), nullable=True),
    sa.Column('blurhash', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('post', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_media_blob', 'media', ['blob'], unique=False)
    op.create_table('node_settings',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('identity', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.SmallInteger(), nullable=False),
    sa.Column('actor', sa.BigInteger(), nullable=False),
    sa.Column('entry', sa.BigInteger(), nullable=False),
    sa.Column('post', sa.BigInteger(), nullable=True),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity', 'kind', 'entry', name='uq_notifications_once')
    )
    op.create_index('ix_notifications_identity', 'notifications', ['identity', 'id'], unique=False)
    op.create_table('oauth_apps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('redirect_uris', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    op.create_table('oauth_codes',
    sa.Column('code_hash', sa.LargeBinary(), nullable=False),
    sa.Column('app', sa.BigInteger(), nullable=False),
    sa.Column('account', sa.BigInteger(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('challenge', sa.Text(), nullable=True),
    sa.Column('challenge_method', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('oauth_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('app', sa.BigInteger(), nullable=True),
    sa.Column('account', sa.BigInteger(), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_used', sa.BigInteger(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_oauth_tokens_account', 'oauth_tokens', ['account'], unique=False)
    op.create_table('password_resets',
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('account', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('post_mentions',
    sa.Column('identity', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('post', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('identity', 'post')
    )
    op.create_index('ix_post_mentions_post', 'post_mentions', ['post'], unique=False)
    op.create_table('post_tags',
    sa.Column('tag', sa.Text(), nullable=False),
    sa.Column('post', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tag', 'post')
    )
    op.create_index('ix_post_tags_tag_ts', 'post_tags', ['tag', 'ts'], unique=False)
    op.create_index('ix_post_tags_ts', 'post_tags', ['ts'], unique=False)
    op.create_table('web_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('account', sa.BigInteger(), nullable=False),
    sa.Column('csrf', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_seen', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_web_sessions_account', 'web_sessions', ['account'], unique=False)
    op.add_column('profiles', sa.Column('locked', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade() -> None:
    op.drop_column('profiles', 'locked')
    op.drop_index('ix_web_sessions_account', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('ix_post_tags_ts', table_name='post_tags')
    op.drop_index('ix_post_tags_tag_ts', table_name='post_tags')
    op.drop_table('post_tags')
    op.drop_index('ix_post_mentions_post', table_name='post_mentions')
    op.drop_table('post_mentions')
    op.drop_table('password_resets')
    op.drop_index('ix_oauth_tokens_account', table_name='oauth_tokens')
    op.drop_table('oauth_tokens')
    op.drop_table('oauth_codes')
    op.drop_table('oauth_apps')
    op.drop_index('ix_notifications_identity', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('node_settings')
    op.drop_index('ix_media_blob', table_name='media')
    op.drop_table('media')
    op.drop_table('markers')
    op.drop_table('follow_grants')
    op.drop_index('ix_bookmarks_account_ts', table_name='bookmarks')
    op.drop_table('bookmarks')
    op.drop_index('ix_accounts_email', table_name='accounts')
    op.drop_table('accounts')
