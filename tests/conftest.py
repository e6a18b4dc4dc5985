"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import secrets
from tests.support.databases import fresh_postgres_database
from tests.support.podman import busybox_image, podman_service  # noqa: F401 - shared fixtures
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a secret it created shows up in any log it wrote."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or not secrets.remembered():
        return
    folder = factory.getbasetemp()
    leaked = secrets.leaks(folder)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not leaked and reporter is not None:
        reporter.ensure_newline()
        logs = sum(1 for _ in folder.rglob("*.log"))
        count = len(secrets.remembered())
        reporter.write_line(f"secret leak check: {count} secrets, {logs} log files, none found")
    if leaked:
        for path, start in leaked:
            message = f"SECRET LEAK: a secret starting {start!r}... is in {path}"
            if reporter is not None:
                reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
