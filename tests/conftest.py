"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_postgres_database
from tests.support.receiver import CallbackReceiver


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated-from-scratch real database: SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mec.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A running callback receiver on a free loopback port."""
    server = CallbackReceiver().start()
    yield server
    server.stop()
