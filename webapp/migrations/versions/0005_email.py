"""email: sign-up confirmation, password-reset and email-change tokens (SPEC §11)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sso_email_token',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('expiration_time', sa.DateTime(), nullable=False),
    sa.Column('used_time', sa.DateTime(), nullable=True),
    sa.Column('reset_key_hash', sa.String(length=64), nullable=True),
    sa.Column('reset_key_expiration', sa.DateTime(), nullable=True),
    sa.Column('new_email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('sso_email_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_email_token_user_id'), ['user_id'], unique=False)

    op.create_table('sso_mail_request',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sso_mail_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_mail_request_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sso_mail_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_mail_request_key'))
    op.drop_table('sso_mail_request')
    with op.batch_alter_table('sso_email_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_email_token_user_id'))
    op.drop_table('sso_email_token')
