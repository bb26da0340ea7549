"""two-factor sign-in (SPEC §10)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_totp_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_label', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('totp_key', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    op.create_table('sso_totp_recovery_code',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sso_totp_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_totp_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sso_totp_recovery_code')
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_key')
        batch_op.drop_column('totp_label')
        batch_op.drop_column('is_totp_enabled')
