"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 23:22:10.365353
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sso_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.Column('cid', sa.String(length=256), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('current_app', sa.String(length=256), nullable=True),
    sa.Column('remote_addr', sa.String(length=256), nullable=True),
    sa.Column('user_agent', sa.String(length=1024), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sso_audit', schema=None) as batch_op:
        batch_op.create_index('ix_sso_audit_actor_time', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_sso_audit_target_time', ['target_id', 'id'], unique=False)

    op.create_table('sso_login_failure',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sso_login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_login_failure_key'), ['key'], unique=False)

    op.create_table('sso_user',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('username_search', sa.String(length=384), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_search', sa.String(length=762), nullable=True),
    sa.Column('display_name', sa.String(length=256), nullable=True),
    sa.Column('display_name_search', sa.String(length=768), nullable=True),
    sa.Column('first_name', sa.String(length=256), nullable=True),
    sa.Column('first_name_search', sa.String(length=768), nullable=True),
    sa.Column('middle_name', sa.String(length=256), nullable=True),
    sa.Column('middle_name_search', sa.String(length=768), nullable=True),
    sa.Column('last_name', sa.String(length=256), nullable=True),
    sa.Column('last_name_search', sa.String(length=768), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('password_is_set', sa.Boolean(), nullable=False),
    sa.Column('password_last_set', sa.DateTime(), nullable=True),
    sa.Column('password_expiry', sa.DateTime(), nullable=True),
    sa.Column('password_must_change', sa.Boolean(), nullable=False),
    sa.Column('is_super_user', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('is_locked', sa.Boolean(), nullable=False),
    sa.Column('locked_time', sa.DateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=64), nullable=True),
    sa.Column('creation_ctx', sa.JSON(), nullable=True),
    sa.Column('sign_up_time', sa.DateTime(), nullable=False),
    sa.Column('sign_up_status', sa.String(length=32), nullable=False),
    sa.Column('approval_status', sa.String(length=32), nullable=False),
    sa.Column('approval_status_mod_time', sa.DateTime(), nullable=True),
    sa.Column('approval_status_mod_by', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('username_search')
    )
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_user_approval_status'), ['approval_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_display_name_search'), ['display_name_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_email_search'), ['email_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_first_name_search'), ['first_name_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_is_locked'), ['is_locked'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_last_name_search'), ['last_name_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_user_middle_name_search'), ['middle_name_search'], unique=False)

    op.create_table('sso_session',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('current_app', sa.String(length=256), nullable=False),
    sa.Column('remote_addr', sa.String(length=256), nullable=True),
    sa.Column('user_agent', sa.String(length=1024), nullable=True),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('expiration_time', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_hash')
    )
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_session_user_id'))

    op.drop_table('sso_session')
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_user_middle_name_search'))
        batch_op.drop_index(batch_op.f('ix_sso_user_last_name_search'))
        batch_op.drop_index(batch_op.f('ix_sso_user_is_locked'))
        batch_op.drop_index(batch_op.f('ix_sso_user_first_name_search'))
        batch_op.drop_index(batch_op.f('ix_sso_user_email_search'))
        batch_op.drop_index(batch_op.f('ix_sso_user_display_name_search'))
        batch_op.drop_index(batch_op.f('ix_sso_user_approval_status'))

    op.drop_table('sso_user')
    with op.batch_alter_table('sso_login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_login_failure_key'))

    op.drop_table('sso_login_failure')
    with op.batch_alter_table('sso_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_sso_audit_target_time')
        batch_op.drop_index('ix_sso_audit_actor_time')

    op.drop_table('sso_audit')
