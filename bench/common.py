"""Shared pieces of the benchmarks: platform processes, service bodies, statistics, results.

Everything here talks to 127.0.0.1 only. The platform is started through the real
`mec-platform` command (via the e2e test helpers), with the settings a deployment would use:
only the data directory and the database URL are set. Its APIs want a bearer token: the
benchmarks act as a platform admin whose token is minted on the box (`mec-platform token`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform as pyplatform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import (
    PlatformProcess,
    WorkerProcess,
    add_app,
    add_app_with_credentials,
    admin_token,
)

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "bench" / "out"
API = "/mec_service_mgmt/v1"
LOOPBACK = "127.0.0.1"

__all__ = [
    "API",
    "LOOPBACK",
    "LoadMonitor",
    "PlatformProcess",
    "WorkerProcess",
    "add_app",
    "add_app_with_credentials",
    "admin_headers",
    "bench_env",
    "fresh_postgres",
    "percentile",
    "postgres_version",
    "register_services",
    "running",
    "service_body",
    "summary_ms",
    "verdict",
    "workspace",
    "write_result",
]


def bench_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """Environment of a platform process: own data dir and database, defaults for the rest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEC_")}
    env["MEC_DATA_DIR"] = str(data_dir)
    env["MEC_DATABASE_URL"] = database_url or f"sqlite:///{data_dir / 'mec.db'}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # The API benchmarks measure the HTTP processes; the data plane (dnsmasq, nftables) has a
    # benchmark of its own and would only add load and a shared DNS port here.
    env["MEC_DATAPLANE"] = "false"
    return env


def admin_headers(env: Mapping[str, str]) -> dict[str, str]:
    """`Authorization` for a platform admin of the platform in `env`, minted on the box.

    The user `bench-admin` is created on first use; the token lives MEC_TOKEN_TTL (15 minutes
    unless set), longer than any benchmark.
    """
    token = admin_token(dict(env), "bench-admin")
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A temporary directory for one benchmark run, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"mec-bench-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def running(process: Any) -> Iterator[Any]:
    """Start a PlatformProcess/WorkerProcess and stop it whatever happens."""
    try:
        yield process.start()
    finally:
        process.stop()


@contextlib.contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, uniquely named database on the given server; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    name = f"mec_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_version(url: str) -> str:
    """The server version string of a PostgreSQL URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def service_body(name: str, category: int) -> dict[str, Any]:
    """A ServiceInfo for registration, in category `cat-<category>`."""
    return {
        "serName": name,
        "version": "1.0",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportId": "rest-http",
        "serCategory": {
            "href": f"http://{LOOPBACK}/categories/{category}",
            "id": f"cat-{category}",
            "name": f"Category {category}",
            "version": "1",
        },
    }


def register_services(
    api: str,
    app_id: str,
    count: int,
    categories: int,
    prefix: str = "svc",
    threads: int = 4,
    headers: Mapping[str, str] | None = None,
) -> list[str]:
    """Register `count` services round-robin over `categories` categories; their ids."""
    url = f"{api}/applications/{app_id}/services"

    def one(client: httpx.Client, i: int) -> str:
        response = client.post(url, json=service_body(f"{prefix}-{i}", i % categories))
        if response.status_code != 201:
            raise RuntimeError(f"registration {i}: HTTP {response.status_code} {response.text}")
        return str(response.json()["serInstanceId"])

    with (
        httpx.Client(
            timeout=30, limits=httpx.Limits(max_connections=threads), headers=headers
        ) as client,
        ThreadPoolExecutor(threads) as pool,
    ):
        return list(pool.map(lambda i: one(client, i), range(count)))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean in milliseconds of durations given in seconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p90_ms": round(percentile(seconds, 90) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
        "mean_ms": round(sum(seconds) / len(seconds) * 1000, 3),
        "count": len(seconds),
    }


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait; guest time is already inside user
    return sum(fields) - idle, sum(fields)


def _own_cpu_seconds() -> float:
    """CPU used by this process and every descendant it (transitively) waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class LoadMonitor:
    """How busy the machine was before and during a run, and how much of that was not us.

    Other sessions may share this machine; their CPU use lowers our figures. `foreign` is the
    machine's busy time during the run minus the CPU of this process tree (approximate:
    interrupt time and processes that exited unwaited are counted as foreign).
    """

    def __init__(self) -> None:
        busy0, total0 = _cpu_ticks()
        time.sleep(2.0)
        busy1, total1 = _cpu_ticks()
        self.before_pct = round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)
        self._ticks = (busy1, total1)
        self._own = _own_cpu_seconds()
        self._hz = os.sysconf("SC_CLK_TCK")
        if self.before_pct > 15:
            print(
                f"warning: the machine was {self.before_pct}% busy before the run", file=sys.stderr
            )

    def end(self) -> dict[str, float]:
        """Figures for the result file; warns when others took a noticeable share."""
        busy, total = _cpu_ticks()
        machine_s = (busy - self._ticks[0]) / self._hz
        wall_core_s = max(1e-9, (total - self._ticks[1]) / self._hz)
        own_s = _own_cpu_seconds() - self._own
        foreign_pct = round(100 * max(0.0, machine_s - own_s) / wall_core_s, 1)
        if foreign_pct > 10:
            print(
                f"warning: other processes used about {foreign_pct}% of the machine during "
                "the run; figures are lower than on a quiet machine",
                file=sys.stderr,
            )
        print(
            f"machine: {self.before_pct}% busy before the run; other processes used about "
            f"{foreign_pct}% of it during the run"
        )
        return {
            "busy_before_pct": self.before_pct,
            "busy_during_pct": round(100 * machine_s / wall_core_s, 1),
            "own_cpu_s": round(own_s, 1),
            "foreign_during_pct": foreign_pct,
        }


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _tool_version(command: Sequence[str]) -> str:
    if shutil.which(command[0]) is None:
        return "absent"
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[0]


def _git(*args: str) -> str:
    # --no-optional-locks: read-only, never refreshes the index of a tree others work in.
    out = subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=REPO, capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def code_version() -> dict[str, Any]:
    """The commit measured and whether mec_platform/ had uncommitted changes."""
    changed = _git("diff", "--name-only", "HEAD", "--", "mec_platform")
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_in_mec_platform": changed.splitlines() if changed else [],
    }


def environment() -> dict[str, Any]:
    """Machine and software versions, recorded with every result."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = [
        "mec-platform",
        "connexion",
        "flask",
        "a2wsgi",
        "gunicorn",
        "uvicorn",
        "uvicorn-worker",
        "sqlalchemy",
        "psycopg",
        "httpx",
        "starlette",
    ]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "kernel": pyplatform.release(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "wrk": _tool_version(["wrk", "-v"]),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "packages": {name: _package_version(name) for name in packages},
    }


def _masked(arg: str) -> str:
    if "://" in arg and "@" in arg:
        from sqlalchemy.engine import make_url

        return make_url(arg).render_as_string(hide_password=True)
    return arg


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Write bench/out/<name>.json with the result, the command line and the environment."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([f"python -m bench.{name}", *map(_masked, sys.argv[1:])]),
        "code": code_version(),
        "environment": environment(),
        **result,
    }
    code = document["code"]
    dirty = code["uncommitted_in_mec_platform"]
    print(
        f"code: commit {code['commit']}" + (f", uncommitted: {', '.join(dirty)}" if dirty else "")
    )
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def verdict(value: float, target: float, higher_is_better: bool) -> str:
    """'met' or 'missed' for a ratio against its target."""
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "missed"
