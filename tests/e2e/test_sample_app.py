"""The sample MEC app of examples/sample-app in a real Podman container against a real platform.

The test plays the lifecycle's part: it builds the image with the example's build-image.sh,
creates the app instance, and runs the container on a bridge network of its own with the
environment the lifecycle gives an instance. The app must register, confirm ready, offer
`sample-echo`, answer on its port, and confirm its graceful termination before the deadline;
it must also leave at once on SIGTERM, even while the platform does not answer yet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.net import free_port, wait_until
from tests.support.processes import (
    REPO,
    PlatformProcess,
    WorkerProcess,
    add_app_with_credentials,
    admin,
    admin_token,
    platform_env,
)

pytestmark = pytest.mark.e2e

SAMPLE = REPO / "examples" / "sample-app"
IMAGE = "localhost/umec-sample-app:1.0"
PROJECT_CONTAINERS_CONF = REPO / "mec_platform" / "lifecycle" / "containers.conf"
# What Podman needs to run as root here, until the project's own file exists.
FALLBACK_CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
APP_PORT = 8080
# Short-lived tokens for the app, so that it meets a 401 and has to get a new token.
APP_TOKEN_TTL = 5


def require_podman() -> None:
    """Fail in CI, skip elsewhere, without podman or the static busybox the image is made of."""
    missing = [
        package
        for package, present in [
            ("podman", shutil.which("podman") is not None),
            ("busybox-static", Path("/bin/busybox").exists()),
        ]
        if not present
    ]
    if missing:
        message = f"{', '.join(missing)} not installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class Podman:
    """The podman CLI with the project's containers.conf."""

    env: dict[str, str]

    def run(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["podman", *arguments], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check:
            assert done.returncode == 0, f"podman {' '.join(arguments)}: {done.stderr}"
        return done


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    require_podman()
    conf = PROJECT_CONTAINERS_CONF
    if not conf.exists():
        conf = tmp_path_factory.mktemp("podman") / "containers.conf"
        conf.write_text(FALLBACK_CONTAINERS_CONF)
    return Podman({**os.environ, "CONTAINERS_CONF": str(conf)})


@pytest.fixture(scope="session")
def sample_image(podman: Podman) -> str:
    """The image, built (or found up to date) by the example's own script."""
    built = subprocess.run(
        [str(SAMPLE / "build-image.sh")],
        env=podman.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    return IMAGE


@dataclass(frozen=True)
class Bridge:
    """A Podman bridge network: its name and the host's address on it."""

    name: str
    gateway: str


@pytest.fixture
def bridge(podman: Podman) -> Iterator[Bridge]:
    name = f"umec-sample-{uuid.uuid4().hex[:10]}"
    podman.run("network", "create", name)
    try:
        subnets = "{{range .Subnets}}{{.Gateway}} {{end}}"
        gateway = podman.run("network", "inspect", name, "--format", subnets).stdout.split()[0]
        yield Bridge(name, gateway)
    finally:
        # -f also removes any container still attached.
        podman.run("network", "rm", "-f", name, check=False)


@dataclass
class Platform:
    """A platform bound on every address, which containers on `bridge` reach as api_root."""

    env: dict[str, str]
    server: PlatformProcess
    api_root: str
    http: httpx.Client
    authenticated: bool

    @property
    def services(self) -> str:
        return f"{self.server.api}/services"

    @property
    def app_support(self) -> str:
        return self.server.app_api

    def instance_line(self, app: str) -> list[str]:
        """The app's `mec-platform app list` fields (empty once the instance is gone)."""
        listed = admin(self.env, "app", "list")
        assert listed.returncode == 0, listed.stderr
        lines = [line.split("\t") for line in listed.stdout.splitlines()]
        return next((fields for fields in lines if fields[0] == app), [])


@pytest.fixture(params=["oauth2", "no-auth"])
def platform(request: pytest.FixtureRequest, bridge: Bridge, tmp_path: Path) -> Iterator[Platform]:
    """The platform with authentication (the app gets client credentials) or without."""
    authenticated = request.param == "oauth2"
    # This test plays the lifecycle's part itself: the platform's own stays off.
    env = platform_env(
        tmp_path,
        MEC_AUTH="true" if authenticated else "false",
        MEC_LIFECYCLE="false",
        MEC_TOKEN_TTL=str(APP_TOKEN_TTL),
    )
    server = PlatformProcess(env, host="0.0.0.0")
    # Links in the platform's answers and notifications must work from inside the container.
    api_root = f"http://{bridge.gateway}:{server.port}"
    env["MEC_API_ROOT"] = api_root
    worker = WorkerProcess(env)
    # The test's own token outlives the app's (the server checks expiry only).
    client = httpx.Client(timeout=10)
    try:
        # Inside the try: a server that starts too slowly is stopped all the same.
        server.start()
        worker.start()
        if authenticated:
            token = admin_token({**env, "MEC_TOKEN_TTL": "3600"})
            client.headers["Authorization"] = f"Bearer {token}"
        yield Platform(env, server, api_root, client, authenticated)
    finally:
        client.close()
        worker.stop()
        server.stop()


def new_instance(platform: Platform) -> tuple[str, dict[str, str]]:
    """A platform-created app instance and the environment the lifecycle would give it."""
    env = {"MEC_API_ROOT": platform.api_root, "MEC_APP_PORT": str(APP_PORT)}
    if platform.authenticated:
        app, secret = add_app_with_credentials(platform.env, "umec-sample-app")
        env |= {
            "MEC_OAUTH2_TOKEN_URL": f"{platform.api_root}/oauth2/token",
            "MEC_OAUTH2_CLIENT_ID": app,
            "MEC_OAUTH2_CLIENT_SECRET": secret,
        }
    else:
        added = admin(platform.env, "app", "add", "umec-sample-app")
        assert added.returncode == 0, added.stderr
        app = added.stdout.splitlines()[0]
    return app, {"MEC_APP_INSTANCE_ID": app, **env}


@dataclass
class Container:
    """A running app container and the file its output is copied to."""

    podman: Podman
    name: str
    network: str
    log: Path

    def address(self) -> str:
        networks = self.podman.run("inspect", self.name, "--format", "{{json .NetworkSettings}}")
        settings: dict[str, Any] = json.loads(networks.stdout)
        return str(settings["Networks"][self.network]["IPAddress"])

    def output(self) -> str:
        logs = self.podman.run("logs", self.name, check=False)
        self.log.write_text(logs.stdout + logs.stderr)
        return logs.stdout + logs.stderr

    def wait(self, timeout: float) -> int:
        """Its exit code once it has exited (within `timeout` seconds)."""
        wait_until(lambda: self.state()["Status"] == "exited", timeout=timeout, interval=0.05)
        return int(self.state()["ExitCode"])

    def state(self) -> dict[str, Any]:
        found = self.podman.run("inspect", self.name, "--format", "{{json .State}}")
        state: dict[str, Any] = json.loads(found.stdout)
        return state

    def finished_at(self) -> datetime:
        """When its process exited, as the runtime recorded it."""
        # Podman gives nanoseconds; datetime holds microseconds.
        stamp = re.sub(r"(\.\d{6})\d+", r"\1", self.state()["FinishedAt"])
        return datetime.fromisoformat(stamp)


StartApp = Callable[[dict[str, str]], Container]


@pytest.fixture
def run_app(
    podman: Podman, sample_image: str, bridge: Bridge, tmp_path: Path
) -> Iterator[StartApp]:
    """Start the sample app with an environment; every container is removed afterwards."""
    started: list[Container] = []

    def start(env: dict[str, str]) -> Container:
        name = f"umec-sample-{uuid.uuid4().hex[:10]}"
        # The secret goes through a private file, not podman's command line.
        env_file = tmp_path / f"{name}.env"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        container = Container(podman, name, bridge.name, tmp_path / f"{name}.log")
        started.append(container)
        podman.run(
            "run", "--detach", "--name", name, "--network", bridge.name,
            "--env-file", str(env_file), sample_image,
        )  # fmt: skip
        return container

    yield start
    for container in started:
        container.output()
        podman.run("rm", "--force", "--time", "0", container.name, check=False)


def discovered(platform: Platform) -> list[dict[str, Any]]:
    found = platform.http.get(platform.services, params={"ser_name": "sample-echo"})
    assert found.status_code == 200, found.text
    services: list[dict[str, Any]] = found.json()
    return services


def wait_for_service(platform: Platform, container: Container) -> dict[str, Any]:
    """The app's service, once discoverable; fails early with the app's output if it quit."""

    def offered() -> bool:
        assert container.state()["Status"] == "running", container.output()
        return bool(discovered(platform))

    try:
        wait_until(offered, timeout=30, interval=0.2)
    except TimeoutError:
        pytest.fail(f"sample-echo never became discoverable:\n{container.output()}")
    [service] = discovered(platform)
    return service


def unconfirmed_completions(platform: Platform) -> list[dict[str, Any]]:
    """The platform's log records of graceful operations that ended without a confirmation."""
    found = []
    for path in Path(platform.env["MEC_DATA_DIR"]).glob("*.log"):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # not a record of the platform's JSON log
            if not isinstance(record, dict):
                continue
            if record.get("msg") == "graceful operation completed" and not record["confirmed"]:
                found.append(record)
    return found


def test_sample_app_runs_and_confirms_its_termination(
    platform: Platform, run_app: StartApp
) -> None:
    app, env = new_instance(platform)
    container = run_app(env)
    service = wait_for_service(platform, container)
    # The app got its token before it registered the service.
    token_expired = time.monotonic() + APP_TOKEN_TTL
    address = container.address()
    assert service["transportInfo"]["type"] == "REST_HTTP"
    assert service["transportInfo"]["endpoint"]["uris"] == [f"http://{address}:{APP_PORT}/"]

    appd = json.loads((SAMPLE / "appd.json").read_text())
    registration = platform.http.get(f"{platform.app_support}/registrations/{app}")
    assert registration.status_code == 200, registration.text
    assert registration.json()["appDId"] == appd["appDId"]
    assert registration.json()["appName"] == appd["appName"]
    assert registration.json()["isInsByMec"] is True
    assert platform.instance_line(app)[1:3] == ["READY", "registered"]

    first = httpx.get(f"http://{address}:{APP_PORT}/", timeout=5)
    assert first.status_code == 200 and first.json()["appInstanceId"] == app
    again = httpx.get(f"http://{address}:{APP_PORT}/", timeout=5).json()
    assert again["requests"] == first.json()["requests"] + 1

    graceful_timeout = 30
    wait_until(lambda: time.monotonic() > token_expired, timeout=APP_TOKEN_TTL + 1)
    started = time.monotonic()
    terminate = admin(
        platform.env, "app", "terminate", app, "--graceful-timeout", str(graceful_timeout)
    )
    assert terminate.returncode == 0, terminate.stderr
    assert "notified" in terminate.stdout
    wait_until(lambda: not platform.instance_line(app), timeout=graceful_timeout)
    # Well before the deadline: only the app's confirmation ends the operation this early.
    assert time.monotonic() - started < graceful_timeout / 2
    assert container.wait(timeout=10) == 0
    output = container.output()
    assert "confirm_termination: TERMINATING confirmed (HTTP 204)" in output, output
    # Its first token had expired by then: it got a new one and confirmed with it.
    assert ("token: refused, getting a new one" in output) is platform.authenticated, output
    gone = platform.http.get(f"{platform.app_support}/registrations/{app}")
    assert gone.status_code == 404
    assert discovered(platform) == []
    # The platform logs every termination it ended at the deadline; this one was confirmed.
    assert unconfirmed_completions(platform) == []


def test_sample_app_leaves_at_once_on_sigterm(
    podman: Podman, bridge: Bridge, run_app: StartApp
) -> None:
    # Nothing listens there: the app keeps retrying its first call.
    silent = f"http://{bridge.gateway}:{free_port()}"
    container = run_app(
        {
            "MEC_APP_INSTANCE_ID": str(uuid.uuid4()),
            "MEC_API_ROOT": silent,
            "MEC_OAUTH2_TOKEN_URL": f"{silent}/oauth2/token",
            "MEC_OAUTH2_CLIENT_ID": "sample",
            "MEC_OAUTH2_CLIENT_SECRET": "not-a-real-secret",
        }
    )
    wait_until(lambda: "retrying: token request" in container.output(), timeout=20)
    answered = httpx.get(f"http://{container.address()}:{APP_PORT}/", timeout=5)
    assert answered.status_code == 200  # it serves while it waits for the platform
    signalled = datetime.now(UTC)
    podman.run("kill", "--signal", "TERM", container.name)
    assert container.wait(timeout=5) == 0
    assert container.finished_at() - signalled < timedelta(seconds=1)
    assert "exiting: SIGTERM" in container.output()
