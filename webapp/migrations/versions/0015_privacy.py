"""privacy and history (SPEC §20): the audit record a restore names, the time a deletion is due

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sso_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restored_from', sa.Integer(), nullable=True))
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_time', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sso_user_deletion_time'), ['deletion_time'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sso_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_user_deletion_time'))
        batch_op.drop_column('deletion_time')
    with op.batch_alter_table('sso_audit', schema=None) as batch_op:
        batch_op.drop_column('restored_from')
