"""required actions and terms (SPEC §19): a user's actions at next sign-in, terms versions, acceptances

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_required_action',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('set_time', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'action'),
    )
    with op.batch_alter_table('sso_required_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_required_action_action'), ['action'], unique=False)
    op.create_table(
        'sso_terms',
        sa.Column('version', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('published_time', sa.DateTime(), nullable=False),
        sa.Column('published_by', sa.String(length=64), nullable=True),
        sa.Column('requires_acceptance', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('version'),
    )
    op.create_table(
        'sso_terms_acceptance',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('time', sa.DateTime(), nullable=False),
        sa.Column('remote_addr', sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version'], ['sso_terms.version']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'version', name='uq_sso_terms_acceptance_user_version'),
    )


def downgrade() -> None:
    op.drop_table('sso_terms_acceptance')
    op.drop_table('sso_terms')
    with op.batch_alter_table('sso_required_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_required_action_action'))
    op.drop_table('sso_required_action')
