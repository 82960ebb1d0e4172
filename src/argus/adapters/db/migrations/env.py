"""Alembic environment: runs on the connection ``argus.adapters.db.migrate`` hands over.

Argus never reads an ``alembic.ini``; ``migrate.upgrade`` builds the config in
code and passes an open (sync-facing) connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from argus.adapters.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through argus.adapters.db.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table_schema=context.config.attributes.get("schema"),
)
with context.begin_transaction():
    context.run_migrations()
