"""profile fields (issue 24, SPEC §16): definitions and one row per user and field

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_profile_field",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("min_length", sa.Integer),
        sa.Column("max_length", sa.Integer),
        sa.Column("regex", sa.Text),
        sa.Column("regex_message", sa.String(256)),
        sa.Column("minimum", sa.BigInteger),
        sa.Column("maximum", sa.BigInteger),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("nullable", sa.Boolean, nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("is_unique", sa.Boolean, nullable=False),
        sa.Column("view", sa.JSON, nullable=False),
        sa.Column("edit", sa.JSON, nullable=False),
        sa.Column("searchable", sa.Boolean, nullable=False),
        sa.Column("list_column", sa.Boolean, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("field_group", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("scim_path", sa.String(512)),
        sa.Column("retired", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sso_profile_value",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field_id", sa.Integer, sa.ForeignKey("sso_profile_field.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("text_value", sa.Text),
        sa.Column("int_value", sa.BigInteger),
        sa.Column("bool_value", sa.Boolean),
        sa.Column("date_value", sa.Date),
        sa.Column("json_value", sa.JSON),
        sa.Column("search_key", sa.String(255)),
        sa.Column("unique_key", sa.String(255)),
        sa.UniqueConstraint("field_id", "unique_key", name="uq_sso_profile_value_unique"),
    )
    op.create_index("ix_sso_profile_value_search", "sso_profile_value", ["field_id", "search_key", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_sso_profile_value_search", table_name="sso_profile_value")
    op.drop_table("sso_profile_value")
    op.drop_table("sso_profile_field")
