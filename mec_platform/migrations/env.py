"""Alembic environment: runs on the connection handed over by mec_platform.storage.migrate."""

from __future__ import annotations

from alembic import context

from mec_platform.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
