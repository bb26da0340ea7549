"""SCIM provisioning (SPEC §21): a user's externalId and last-modified time (both indexed, filterable),
and the SCIM clients (a bearer token each, only its SHA-256 kept)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place (no batch copy, which would drop the search triggers of 0008 on SQLite)
    op.add_column('sso_user', sa.Column('external_id', sa.String(256), nullable=True))
    op.add_column('sso_user', sa.Column('last_modified', sa.DateTime(), nullable=True))
    op.create_index('ix_sso_user_external_id', 'sso_user', ['external_id'])
    op.create_index('ix_sso_user_last_modified', 'sso_user', ['last_modified'])
    op.create_table(
        'sso_scim_client',
        sa.Column('name', sa.String(128), primary_key=True),
        sa.Column('token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('role', sa.String(128), nullable=False),
        sa.Column('creation_time', sa.DateTime(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('sso_scim_client')
    op.drop_index('ix_sso_user_last_modified', 'sso_user')
    op.drop_index('ix_sso_user_external_id', 'sso_user')
    for column in ('last_modified', 'external_id'):
        op.execute(f'ALTER TABLE sso_user DROP COLUMN {column}')
