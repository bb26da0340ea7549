"""lifecycle and sessions (SPEC §8, §9): a public session id, the last-use time, and the sessions
ended by a lock

Revision ID: 0002
Revises: 0001
"""
import base64
import os

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _public_id() -> str:
    return "zses" + base64.b32encode(os.urandom(15)).decode().lower()


def upgrade() -> None:
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_use_time', sa.DateTime(), nullable=True))
    # Sessions open while upgrading keep working: each gets its public id, and its last use is its start.
    conn = op.get_bind()
    table = sa.table('sso_session', sa.column('id', sa.Integer), sa.column('session_id', sa.String),
                     sa.column('creation_time', sa.DateTime), sa.column('last_use_time', sa.DateTime))
    for (pk,) in conn.execute(sa.select(table.c.id)).all():
        conn.execute(table.update().where(table.c.id == pk).values(session_id=_public_id(),
                                                                    last_use_time=table.c.creation_time))
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.alter_column('session_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('last_use_time', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_unique_constraint('uq_sso_session_session_id', ['session_id'])

    op.create_table('sso_session_ended',
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('expiration_time', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_hash')
    )
    with op.batch_alter_table('sso_session_ended', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_session_ended_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sso_session_ended', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_session_ended_user_id'))
    op.drop_table('sso_session_ended')
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sso_session_session_id', type_='unique')
        batch_op.drop_column('last_use_time')
        batch_op.drop_column('session_id')
