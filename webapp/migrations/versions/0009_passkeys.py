"""passkeys (SPEC §18): credentials and their challenges

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sso_passkey',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('passkey_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.JSON(), nullable=False),
    sa.Column('aaguid', sa.String(length=36), nullable=False),
    sa.Column('backup_eligible', sa.Boolean(), nullable=False),
    sa.Column('backed_up', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.Column('last_use_time', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('credential_id'),
    sa.UniqueConstraint('passkey_id')
    )
    with op.batch_alter_table('sso_passkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_passkey_user_id'), ['user_id'], unique=False)

    op.create_table('sso_passkey_challenge',
    sa.Column('handle_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('challenge', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('expiration_time', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('handle_hash')
    )
    with op.batch_alter_table('sso_passkey_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_passkey_challenge_expiration_time'), ['expiration_time'], unique=False)


def downgrade() -> None:
    op.drop_table('sso_passkey_challenge')
    op.drop_table('sso_passkey')
