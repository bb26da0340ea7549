"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.sso.kernel.tables import SQLITE_SEARCH_TABLE, declare_search_indexes, metadata


def _ours_on(dialect: str):
    """Leave out what exists on one database only: SQLite's FTS5 search table (a virtual table with
    shadow tables, not a SQLAlchemy table) and PostgreSQL's trigram indexes (`info["only_on"]`)."""

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table" and name and name.startswith(SQLITE_SEARCH_TABLE):
            return False
        only_on = getattr(obj, "info", {}).get("only_on") if obj is not None else None
        return only_on in (None, dialect)

    return include_object


def test_the_migrated_database_matches_the_models(app):
    declare_search_indexes()
    with app.extensions["sso_engine"].connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _ours_on(conn.dialect.name)}
        )
        assert compare_metadata(context, metadata) == []
