"""Zato drop-in: attributes, linked credentials, rate limits, import (SPEC §12-§15)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_rate_limit_active', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('rate_limit_def', sa.Text(), nullable=True))

    op.create_table('sso_user_attr',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('session_pk', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('is_encrypted', sa.Boolean(), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('last_modified', sa.DateTime(), nullable=False),
    sa.Column('expiration_time', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_pk'], ['sso_session.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'scope', 'name', name='uq_sso_user_attr_name')
    )
    with op.batch_alter_table('sso_user_attr', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_user_attr_expiration_time'), ['expiration_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_attr_session_pk'), ['session_pk'], unique=False)

    op.create_table('sso_rate_hit',
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )

    op.create_table('sso_api_client',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )

    op.create_table('sso_linked_auth',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('auth_type', sa.String(length=64), nullable=False),
    sa.Column('auth_username', sa.String(length=128), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('session_token', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['auth_username'], ['sso_api_client.name'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('auth_username')
    )
    with op.batch_alter_table('sso_linked_auth', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_linked_auth_user_id'), ['user_id'], unique=False)

    op.create_table('sso_zato_import',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source_digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('sso_zato_import')
    with op.batch_alter_table('sso_linked_auth', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_linked_auth_user_id'))
    op.drop_table('sso_linked_auth')
    op.drop_table('sso_api_client')
    op.drop_table('sso_rate_hit')
    with op.batch_alter_table('sso_user_attr', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_user_attr_session_pk'))
        batch_op.drop_index(batch_op.f('ix_sso_user_attr_expiration_time'))
    op.drop_table('sso_user_attr')
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.drop_column('rate_limit_def')
        batch_op.drop_column('is_rate_limit_active')
