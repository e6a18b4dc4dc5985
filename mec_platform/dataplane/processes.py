"""Finding and ending processes by their command line (the data plane's leftovers)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def pids_with_argument(program: str, argument: str) -> list[int]:
    """Processes running `program` (by file name) with `argument` on their command line."""
    wanted = argument.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in arguments and Path(arguments[0].decode(errors="replace")).name == program:
            found.append(int(entry.name))
    return found


def kill_and_wait(pid: int, timeout: float) -> None:
    """SIGKILL a process and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, timeout)


def _wait_gone(pid: int, timeout: float) -> None:
    """Wait until a killed process is gone (a zombie counts: it holds no sockets)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return
        time.sleep(0.01)
