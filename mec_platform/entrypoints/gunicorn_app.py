"""The HTTP server process: gunicorn with uvicorn workers, each building its own app."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication

from mec_platform.config import Settings


def build_asgi_app() -> Any:
    """Called in each gunicorn worker after fork: engines and pools are per process."""
    from mec_platform import logs
    from mec_platform.bootstrap import bootstrap
    from mec_platform.http.app import create_app

    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_json)
    return create_app(bootstrap(settings, migrate=False))


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PlatformServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code rather than from a config file."""

    def __init__(
        self, settings: Settings, access_log: bool = False, extra_hosts: Sequence[str] = ()
    ) -> None:
        self._options: dict[str, Any] = {
            "bind": [_bind(host, settings.port) for host in (settings.host, *extra_hosts)],
            "workers": settings.http_workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "graceful_timeout": 10,
            "timeout": 60,
            "keepalive": 5,
            "child_exit": _child_exit,
            "accesslog": "-" if access_log else None,
            "proc_name": "mec-platform",
            "certfile": str(settings.tls_cert) if settings.tls else None,
            "keyfile": str(settings.tls_key) if settings.tls else None,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return build_asgi_app()
