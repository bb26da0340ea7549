"""the transactional outbox (issue 27): sso_outbox, one row per email, delivered by `flask --app webapp sso worker`

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=512), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('creation_time', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_time', sa.DateTime(), nullable=False),
        sa.Column('last_attempt_time', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=512), nullable=True),
        sa.Column('sent_time', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_sso_outbox_status_id', 'sso_outbox', ['status', 'id'])
    op.create_index(op.f('ix_sso_outbox_user_id'), 'sso_outbox', ['user_id'])
    op.create_index(op.f('ix_sso_outbox_sent_time'), 'sso_outbox', ['sent_time'])


def downgrade() -> None:
    op.drop_index(op.f('ix_sso_outbox_sent_time'), table_name='sso_outbox')
    op.drop_index(op.f('ix_sso_outbox_user_id'), table_name='sso_outbox')
    op.drop_index('ix_sso_outbox_status_id', table_name='sso_outbox')
    op.drop_table('sso_outbox')
