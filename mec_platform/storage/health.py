"""Readiness probe of the database: reachable and migrated to the newest revision."""

from __future__ import annotations

import functools

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from mec_platform.storage.migrate import MIGRATIONS_DIR


@functools.cache
def _head_revision() -> str | None:
    # Read from the migration scripts once per process, not on every probe.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def database_problem(engine: Engine) -> str | None:
    """None when the database answers and is at the head revision, else what is wrong."""
    head = _head_revision()
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        return f"database unavailable: {type(exc).__name__}"
    if current != head:
        return f"database schema at revision {current}, expected {head}"
    return None
