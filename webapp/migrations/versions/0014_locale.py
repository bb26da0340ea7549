"""languages (issue 23): the user's `locale`, a BCP 47 tag from the shipped list (NULL: the browser's language)

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sso_user', sa.Column('locale', sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sso_user') as batch_op:
        batch_op.drop_column('locale')
