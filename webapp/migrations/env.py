"""Alembic environment: runs against the engine the app hands over (see webapp.schema)."""

from alembic import context

from webapp.sso.kernel.tables import declare_search_indexes, metadata

declare_search_indexes()
engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"
with engine.connect().execution_options(sso_write=True) as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    # SQLite's batch migrations re-create a table (copy, drop, rename): with foreign keys on, dropping
    # sso_user would cascade and delete every session, token and attribute row. Alembic's advice: off
    # while migrating (outside any transaction, on the raw connection), back on afterwards.
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # a migration may take longer than a request may
                connection.exec_driver_sql("SET statement_timeout = 0")
                connection.exec_driver_sql("SET lock_timeout = 0")
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
