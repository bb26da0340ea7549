"""search at scale (issue 14): trigram indexes for *contains* searches on the folded search columns

PostgreSQL: the pg_trgm extension and one GIN (gin_trgm_ops) index per `*_search` column.
SQLite: an FTS5 table with the trigram tokenizer over the same columns (external content: it stores
only the index, the text stays in sso_user), kept in step by triggers on sso_user, so every write
path (create, update, clear, delete, import, a bulk insert) updates it in the same transaction.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Frozen here (a migration must not change when the code does); webapp/models.py has the same names.
COLUMNS = ("username_search", "email_search", "display_name_search", "first_name_search", "middle_name_search",
           "last_name_search")
FTS = "sso_user_fts"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in COLUMNS:
            op.execute(f"CREATE INDEX ix_{column}_trgm ON sso_user USING gin ({column} gin_trgm_ops)")
        return
    if op.get_bind().dialect.name != "sqlite":
        return
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5({columns}, content='sso_user', content_rowid='rowid', "
               "tokenize='trigram case_sensitive 1')")
    op.execute(f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON sso_user BEGIN "
               f"INSERT INTO {FTS}(rowid, {columns}) VALUES (new.rowid, {new}); END")
    op.execute(f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON sso_user BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {columns}) VALUES ('delete', old.rowid, {old}); END")
    op.execute(f"CREATE TRIGGER {FTS}_au AFTER UPDATE OF {columns} ON sso_user BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {columns}) VALUES ('delete', old.rowid, {old}); "
               f"INSERT INTO {FTS}(rowid, {columns}) VALUES (new.rowid, {new}); END")
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_{column}_trgm")
        return
    if op.get_bind().dialect.name != "sqlite":
        return
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {FTS}")
