"""Alembic environment: runs against the engine the app hands over (see webapp.schema)."""
from alembic import context

from webapp.models import Base

engine = context.config.attributes["engine"]
with engine.connect().execution_options(sso_write=True) as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
