"""profile fields' schema version (issue 24, SPEC §16): one row whose version moves with every definition change

A process keeps the definitions it read keyed by this version (one cheap read instead of every definition per
request), and a value write checks it in its conditional UPDATE (docs/DECISIONS.md). The service moves it first
thing in a definition change (the lock order); triggers move it again after any write to the definitions, so a
change made by hand (SQL) is seen by every process too.

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TRIGGERS = {  # SQLite: one per kind of write (each runs per row)
    "INSERT": "sso_profile_field_inserted",
    "UPDATE": "sso_profile_field_updated",
    "DELETE": "sso_profile_field_deleted",
}


def upgrade() -> None:
    table = op.create_table(
        "sso_profile_schema",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])
    bump = "UPDATE sso_profile_schema SET version = version + 1 WHERE id = 1"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION sso_profile_schema_moved() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {bump}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER sso_profile_field_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON sso_profile_field FOR EACH STATEMENT EXECUTE FUNCTION sso_profile_schema_moved()"
        )
    else:
        for event, name in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON sso_profile_field BEGIN {bump}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sso_profile_field_moved ON sso_profile_field")
        op.execute("DROP FUNCTION sso_profile_schema_moved()")
    else:
        for name in TRIGGERS.values():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("sso_profile_schema")
