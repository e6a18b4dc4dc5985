"""Real databases for integration tests: a temporary SQLite file or a fresh PostgreSQL DB."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    """Where the test PostgreSQL server is (MEC_TEST_POSTGRES_URL)."""
    return os.environ.get("MEC_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def _unavailable(reason: str) -> None:
    # In CI a missing service is a failure; on a developer machine it is a skip.
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason}); set MEC_TEST_POSTGRES_URL")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    admin_url = make_url(postgres_admin_url())
    name = f"mec_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection problem means: no server for us
        admin.dispose()
        _unavailable(f"{type(exc).__name__}: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
