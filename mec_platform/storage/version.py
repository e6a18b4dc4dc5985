"""The registry version read on every cached discovery answer, in as few round trips as possible.

On PostgreSQL a unit of work costs four round trips (pool pre-ping, BEGIN, SELECT, ROLLBACK);
this reader uses its own small autocommit pool without pre-ping, so a read is one SELECT. A
connection the server dropped is replaced once, transparently. SQLite needs no network, so
it reads through the main engine.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError

from mec_platform.errors import StorageUnavailable
from mec_platform.storage.counters import REGISTRY_VERSION, read
from mec_platform.storage.engine import is_sqlite


class SqlRegistryVersion:
    """Callable returning the current registry version."""

    def __init__(self, engine: Engine) -> None:
        self._engine = (
            engine
            if is_sqlite(engine)
            else create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                # Sized for a worker's request threads: connections beyond pool_size are
                # closed on return, and reconnecting costs far more than the read.
                pool_size=16,
                max_overflow=16,
                pool_pre_ping=False,
            )
        )

    def __call__(self) -> int:
        for attempt in (1, 2):
            try:
                with self._engine.connect() as conn:
                    return read(conn, REGISTRY_VERSION)
            except DBAPIError as exc:
                # A dropped connection is invalidated by SQLAlchemy; one retry gets a new one.
                if attempt == 2 or not exc.connection_invalidated:
                    raise StorageUnavailable("the platform database is not available") from exc
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        """Close the reader's own connections."""
        self._engine.dispose()
