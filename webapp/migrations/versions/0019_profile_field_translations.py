"""profile fields' label and description per language (SPEC §16, §22): one nullable JSON column

`translations` holds {"de": {"label": ..., "description": ...}, "pl": {...}}; NULL: shown as written in every
language. A plain ADD COLUMN on both databases (SQLite keeps the table, and so its schema-version triggers).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sso_profile_field", sa.Column("translations", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("sso_profile_field", "translations")  # SQLite 3.35+: in place, its triggers kept
