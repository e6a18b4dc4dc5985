"""Bring a database up to the newest schema with Alembic, safely from several processes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from mec_platform.errors import StorageUnavailable
from mec_platform.storage.engine import SQLITE_BEGIN_OPTION, is_sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works; it only has to be the same in every platform process.
_PG_LOCK_KEY = 0x4D4543


def upgrade(engine: Engine) -> None:
    """Run pending migrations; concurrent starters wait for each other instead of racing."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _connect(engine) as conn:
        if is_sqlite(engine):
            conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            if not is_sqlite(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


def _connect(engine: Engine) -> Connection:
    """A connection, or StorageUnavailable saying why there is none (never the password)."""
    try:
        return engine.connect()
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StorageUnavailable(f"the platform database is not available ({reason})") from exc
