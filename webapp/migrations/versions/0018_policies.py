"""account policies (issue 27, SPEC §19): their settings, and each run's claims on users

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_policy',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('modified_time', sa.DateTime(), nullable=False),
        sa.Column('modified_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'sso_policy_claim',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('policy', sa.String(length=32), nullable=False),
        sa.Column('due_time', sa.DateTime(), nullable=False),
        sa.Column('claimed_time', sa.DateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'policy', 'due_time', name='uq_sso_policy_claim'),
    )


def downgrade() -> None:
    op.drop_table('sso_policy_claim')
    op.drop_table('sso_policy')
