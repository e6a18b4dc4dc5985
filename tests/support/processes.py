"""Run the real platform processes (gunicorn server, notification worker) for e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.net import free_port, wait_http_ok
from tests.support.secrets import remember

REPO = Path(__file__).resolve().parents[2]


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a command in its own process group, output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """SIGTERM the process group, SIGKILL it if it has not gone after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def platform_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for a platform process with its own data directory and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEC_")}
    env.update(
        MEC_DATA_DIR=str(data_dir),
        MEC_DATABASE_URL=database_url or f"sqlite:///{data_dir / 'mec.db'}",
        MEC_LOG_JSON="true",
        MEC_RETRY_BASE_DELAY="0.2",
        MEC_RETRY_MAX_DELAY="1",
        MEC_WORKER_POLL_INTERVAL="0.02",
        # The data plane needs a DNS port and a network namespace of the test's own: the tests
        # that exercise it switch it on with both.
        MEC_DATAPLANE="false",
        # App lifecycle needs a Podman service: the lifecycle tests switch it on and give
        # their own (MEC_PODMAN_URL).
        MEC_LIFECYCLE="false",
        # The box's MQTT broker needs a port of the test's own: the sensor tests switch it on
        # with one (MEC_MQTT_PORT).
        MEC_MQTT_BROKER="off",
        # Module-wide platforms outlive the default 15 minutes of a token.
        MEC_TOKEN_TTL="7200",
    )
    env.update(extra)
    return env


class PlatformProcess:
    """`mec-platform serve` on a free loopback port (by default without its own worker)."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 2,
        log: Path | None = None,
        with_worker: bool = False,
        host: str | None = None,
    ) -> None:
        # host: an address to bind instead of 127.0.0.1 (0.0.0.0 lets containers reach it).
        self.host = host
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.with_worker = with_worker
        self.log = log or Path(env["MEC_DATA_DIR"]) / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        address = "127.0.0.1" if self.host in (None, "0.0.0.0") else self.host
        return f"http://{address}:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.root}/mec_service_mgmt/v1"

    @property
    def app_api(self) -> str:
        return f"{self.root}/mec_app_support/v2"

    def start(self) -> PlatformProcess:
        command = [
            sys.executable,
            "-m",
            "mec_platform.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if not self.with_worker:
            command.append("--no-worker")
        if self.host is not None:
            command += ["--host", self.host]
        self.proc = spawn(command, self.env, self.log)
        wait_http_ok(f"{self.root}/readyz")
        return self

    def stop(self) -> None:
        stop_group(self.proc)


def admin(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run `mec-platform ARGUMENTS` (an admin command) and return its result."""
    return subprocess.run(
        [sys.executable, "-m", "mec_platform.cli", *arguments],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )


class WorkerProcess:
    """`mec-platform worker` with the same environment as the server."""

    def __init__(self, env: dict[str, str], name: str = "worker") -> None:
        self.env = env
        self.log = Path(env["MEC_DATA_DIR"]) / f"{name}-{free_port()}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "mec_platform.cli", "worker"]
        self.proc = spawn(command, self.env, self.log)
        return self

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing is finished or recorded."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        stop_group(self.proc, timeout=40)


def add_app(env: dict[str, str], name: str, *options: str) -> str:
    """`mec-platform app add NAME [OPTIONS]` through the real command; returns the new id."""
    return add_app_with_credentials(env, name, *options)[0]


def add_app_with_credentials(env: dict[str, str], name: str, *options: str) -> tuple[str, str]:
    """`mec-platform app add`, returning (appInstanceId, client secret); the secret is
    remembered for the leak check."""
    out = subprocess.run(
        [sys.executable, "-m", "mec_platform.cli", "app", "add", name, *options],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, f"app add {name} failed: {out.stderr.strip()[-2000:]}"
    # The id comes first, then `client_id=...` and `client_secret=...`.
    lines = out.stdout.strip().splitlines()
    fields = dict(line.split("=", 1) for line in lines[1:])
    return lines[0], remember(fields["client_secret"])


def admin_token(env: dict[str, str], name: str = "e2e-admin", role: str = "platform-admin") -> str:
    """A token for a user of the given role, created on first use, minted on the box."""
    listed = admin(env, "user", "list")
    if not any(line.split("\t")[0] == name for line in listed.stdout.splitlines()):
        created = admin(env, "user", "add", name, "--role", role)
        assert created.returncode == 0, created.stderr
    minted = admin(env, "token", name)
    assert minted.returncode == 0, minted.stderr
    return remember(minted.stdout.strip())
