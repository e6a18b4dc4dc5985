"""End-to-end fixtures: the real server under gunicorn and the real worker, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.processes import (
    PlatformProcess,
    WorkerProcess,
    add_app,
    admin_token,
    platform_env,
)


@dataclass
class Stack:
    """A running platform: HTTP server, notification worker, an admin's HTTP client."""

    env: dict[str, str]
    server: PlatformProcess
    worker: WorkerProcess
    http: httpx.Client
    token: str

    @property
    def api(self) -> str:
        return self.server.api

    @property
    def app_api(self) -> str:
        return self.server.app_api

    def add_app(self, name: str, *options: str) -> str:
        return add_app(self.env, name, *options)

    def restart_worker(self) -> None:
        self.worker = WorkerProcess(self.env).start()


def run_stack(database_url: str, folder: Path, **settings: str) -> Iterator[Stack]:
    """Start server and worker with extra MEC_* settings; stop both afterwards."""
    env = platform_env(folder, database_url, **settings)
    server = PlatformProcess(env)
    worker = WorkerProcess(env)
    client: httpx.Client | None = None
    running: Stack | None = None
    try:
        # Inside the try: a server that never became ready is stopped all the same.
        server.start()
        # Admin commands and the worker build links too: they must know the server's address.
        env["MEC_API_ROOT"] = server.root
        worker.start()
        # The tests act as a platform admin unless they say otherwise (tests/e2e/test_auth*.py).
        token = admin_token(env)
        client = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"})
        running = Stack(env, server, worker, client, token)
        yield running
    finally:
        if client is not None:
            client.close()
        (running.worker if running else worker).stop()
        server.stop()


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A platform of one's own, for tests that stop or break parts of it."""
    yield from run_stack(database_url, tmp_path)


@pytest.fixture(scope="module")
def shared_stack(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One platform for a module's tests; they use their own app instances."""
    yield from run_stack(module_database_url, tmp_path_factory.mktemp("stack"))
