"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_postgres_database
from tests.support.receiver import CallbackReceiver


def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'mec.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty real database for one test: SQLite file or a fresh PostgreSQL database."""
    yield from _database(request.param, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty real database shared by the tests of one module."""
    yield from _database(request.param, tmp_path_factory.mktemp("db"))


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A running callback receiver on a free loopback port."""
    server = CallbackReceiver().start()
    yield server
    server.stop()
