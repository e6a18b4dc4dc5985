"""Baseline server: a bare Flask app answering every GET with fixed JSON bytes from memory.

It runs under the same server stack as the platform (gunicorn, uvicorn workers, Flask wrapped
for ASGI by a2wsgi's WSGIMiddleware as connexion does), so the gap between the two is what
the platform adds: routing and validation, the database query and the JSON rendering.

The bytes are read once per worker from the file named by BENCH_BODY_FILE.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import flask
from a2wsgi import WSGIMiddleware

from tests.support.net import free_port, wait_http_ok
from tests.support.processes import spawn, stop_group

REPO = Path(__file__).resolve().parents[1]


def create_app(body: bytes) -> flask.Flask:
    """A Flask app with one catch-all GET route returning `body` as application/json."""
    flask_app = flask.Flask(__name__)

    def fixed(path: str = "") -> flask.Response:
        return flask.Response(body, mimetype="application/json")

    flask_app.add_url_rule("/", "root", fixed)
    flask_app.add_url_rule("/<path:path>", "fixed", fixed)
    return flask_app


def _asgi_app() -> WSGIMiddleware | None:
    body_file = os.environ.get("BENCH_BODY_FILE")
    if not body_file:
        return None
    wsgi_app = create_app(Path(body_file).read_bytes()).wsgi_app
    # Flask types the WSGI environ with wsgiref's aliases, a2wsgi with its own: same shape.
    return WSGIMiddleware(wsgi_app)  # type: ignore[arg-type]


app = _asgi_app()


class BaselineServer:
    """gunicorn -k uvicorn_worker.UvicornWorker -w N serving `app` on a free loopback port."""

    def __init__(self, body_file: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.body_file = body_file
        self.workers = workers
        self.log = body_file.parent / f"baseline-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The gunicorn command line (settings as in the platform's PlatformServer)."""
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "uvicorn_worker.UvicornWorker",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--keep-alive",
            "5",
            "--graceful-timeout",
            "10",
            "bench.baseline_app:app",
        ]

    def start(self) -> BaselineServer:
        env = dict(os.environ, BENCH_BODY_FILE=str(self.body_file))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.proc = spawn(self.command(), env, self.log)
        wait_http_ok(f"{self.root}/ready")
        return self

    def stop(self) -> None:
        stop_group(self.proc)
