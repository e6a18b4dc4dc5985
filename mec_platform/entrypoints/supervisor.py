"""Keeps the platform's helper processes running next to `mec-platform serve`.

`serve` starts the notification worker and the data plane as child processes (not inside
gunicorn workers) and restarts each when it exits unexpectedly, with a growing pause, so a
crash never silently stops delivery or rule enforcement. Deployments that run them under
their own supervisor use `--no-worker` / `--no-dataplane`.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading

log = logging.getLogger("mec_platform.supervisor")

MAX_PAUSE = 30.0


class WorkerSupervisor:
    """Runs `python -m mec_platform.cli <role>` and restarts it until stopped."""

    def __init__(self, command: list[str] | None = None, role: str = "worker") -> None:
        self._command = command or [sys.executable, "-m", "mec_platform.cli", role]
        self._role = role
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._watch, name=f"{role}-supervisor", daemon=True)
        self.restarts = 0

    def start(self) -> WorkerSupervisor:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self._process = subprocess.Popen(self._command)

    def _watch(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error(
                "child process exited; restarting", extra={"role": self._role, "exit_code": code}
            )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, MAX_PAUSE)
            self.restarts += 1
            self._spawn()

    def stop(self, timeout: float = 40.0) -> None:
        """Ask the worker to finish its in-flight deliveries and wait for it."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
