"""Engine construction: SQLite in WAL mode with explicit BEGIN modes, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BEGIN_OPTION = "sqlite_begin"


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite database."""
    return engine.dialect.name == "sqlite"


def _prepare_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling cannot BEGIN IMMEDIATE; we take it over, as the
    # SQLAlchemy SQLite dialect documentation describes ("Serializable isolation").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that upgrades to a writer
        # fails at once with SQLITE_BUSY instead of waiting for busy_timeout.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(database_url: str) -> Engine:
    """Build the engine for a database URL; SQLite's parent directory is created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as a worker's request threads (a2wsgi runs 10): connections beyond
        # pool_size are closed on return, and reopening one costs more than a query.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=12,
            max_overflow=8,
        )
        _prepare_sqlite(engine)
        return engine
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=12, max_overflow=8)


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a file-based SQLite engine, else None."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return None
    return Path(database)


def safe_database_url(database_url: str) -> str:
    """The URL with any password masked, for logs."""
    return make_url(database_url).render_as_string(hide_password=True)
