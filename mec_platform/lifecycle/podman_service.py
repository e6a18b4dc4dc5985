"""A `podman system service` of the platform's own, run as a child process on a unix socket.

`mec-platform serve` starts one when no external Podman URL is configured, and the tests start
one on a temporary socket. The service gets CONTAINERS_CONF pointing at the containers.conf
shipped next to this module (or the caller's), `--time=0` so it never exits on idle, and
counts as ready once its API answers `/_ping`. Containers outlive the service: their conmon
monitors are not its children, so a stop or restart of the service leaves them running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from mec_platform.dataplane.processes import kill_and_wait, pids_with_argument
from mec_platform.lifecycle.runtime import RuntimeUnavailable

_LOG_TAIL = 2000


def shipped_containers_conf() -> Path:
    """The containers.conf the platform ships and runs Podman with."""
    return Path(__file__).with_name("containers.conf")


class PodmanService:
    """`podman system service --time=0 unix://<socket_path>`, started and stopped by us."""

    start_timeout = 30.0
    stop_timeout = 10.0

    def __init__(
        self,
        socket_path: Path,
        containers_conf: Path | None = None,
        log: Path | None = None,
        podman: str = "podman",
    ) -> None:
        self.socket_path = socket_path
        self.containers_conf = containers_conf or shipped_containers_conf()
        self.log = log  # None: Podman's output goes to our own stderr
        self.podman = podman
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL clients (PodmanRuntime) connect to."""
        return f"unix://{self.socket_path}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def environment(self) -> dict[str, str]:
        """Our environment with CONTAINERS_CONF pointing at the service's configuration."""
        return {**os.environ, "CONTAINERS_CONF": str(self.containers_conf)}

    def start(self) -> PodmanService:
        """Launch the service and wait until its API answers; raises RuntimeUnavailable."""
        if self.running:
            return self
        executable = shutil.which(self.podman)
        if executable is None:
            raise RuntimeUnavailable(f"{self.podman} is not installed (Debian package podman)")
        self._stop_orphans()
        # The socket gives root's power over containers: keep its folder to ourselves.
        self.socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        command = [executable, "system", "service", "--time=0", self.url]
        self._process = self._spawn(command)
        self._wait_ready()
        return self

    def stop(self) -> None:
        """SIGTERM the service, SIGKILL it after `stop_timeout`; calling it again does nothing."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> PodmanService:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        output = self.log.open("ab") if self.log is not None else None
        try:
            # A session of its own: a Ctrl-C meant for the platform must not end Podman
            # before the platform has finished the operations it is running.
            return subprocess.Popen(
                command,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT if output is not None else None,
                start_new_session=True,
            )
        except OSError as exc:
            raise RuntimeUnavailable(f"cannot run {command[0]}: {exc}") from exc
        finally:
            if output is not None:
                output.close()

    def _stop_orphans(self) -> None:
        # A platform killed with SIGKILL leaves its service running; a second service would
        # take the socket over and remove it when either of them ends. The URL on the
        # command line tells which service is ours.
        for pid in pids_with_argument("podman", self.url):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _ended_within(pid, self.stop_timeout):
                kill_and_wait(pid, self.stop_timeout)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                break
            if _pings(self.socket_path):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeUnavailable(f"podman system service did not start at {self.url}{self._tail()}")

    def _tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return ": " + self.log.read_text(errors="replace")[-_LOG_TAIL:].strip()


def _pings(path: Path) -> bool:
    """True when the API at the socket answers `GET /_ping` with 200."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(1.0)
        try:
            connection.connect(str(path))
            connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
            status_line = connection.recv(64).split(b"\r\n", 1)[0]
        except OSError:
            return False
    return status_line.split(b" ")[1:2] == [b"200"]


def _ended_within(pid: int, seconds: float) -> bool:
    """Wait for a process to end (a zombie has ended); False when it still runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return True
        time.sleep(0.02)
    return False
