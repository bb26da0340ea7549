"""roles (issue 25, SPEC §17): sso_role and sso_user_role, and the three shipped roles

Revision ID: 0010
Revises: 0009
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Frozen here (a migration must not change when the code does); webapp/sso/kernel/permissions.py has the
# same roles as SHIPPED_ROLES. Editable once created.
SHIPPED = (
    ("auditor", "Auditor: reads users and the audit, never writes", "audit.view users.view"),
    ("helpdesk", "Help desk: unlock accounts, reset passwords, sign people out",
     "users.credentials users.lock users.sessions users.view"),
    ("user-admin", "User administrator: everything about users but deleting them",
     "users.approve users.attributes users.create users.credentials users.edit users.lock users.sessions "
     "users.view"),
)


def upgrade() -> None:
    role = op.create_table('sso_role',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=512), nullable=False),
    sa.Column('permissions', sa.Text(), nullable=False),
    sa.Column('creation_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('sso_user_role',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('grant_time', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['role'], ['sso_role.name'], ),
    sa.ForeignKeyConstraint(['user_id'], ['sso_user.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    with op.batch_alter_table('sso_user_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_user_role_role'), ['role'], unique=False)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(role, [{"name": name, "description": description, "permissions": permissions,
                           "creation_time": now} for name, description, permissions in SHIPPED])


def downgrade() -> None:
    with op.batch_alter_table('sso_user_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_user_role_role'))
    op.drop_table('sso_user_role')
    op.drop_table('sso_role')
