"""Wake the notification worker as soon as a change commits, instead of at its next poll.

The HTTP processes send an empty datagram to a Unix socket the worker listens on; the worker
then claims at once. It is a hint only: a lost datagram, a worker on another host or no
worker at all leaves delivery to polling, which always runs. The socket's name is derived
from the database URL, so every process sharing a database on this host finds the same one
(and the path stays short enough for a Unix socket).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("mec_platform.notifications")


def wakeup_path(database_url: str, role: str = "worker") -> Path:
    """Where the process of `role` (worker, dataplane) of this database listens on this host."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    suffix = "" if role == "worker" else f".{role}"
    return Path(base) / f"mec-platform-{digest}{suffix}.wake"


class WakeupSender:
    """Sends the hint; never blocks and never fails the caller."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)
        self._socket: socket.socket | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        # Nobody listening, or the queue is full: polling will do.
        with contextlib.suppress(OSError):
            self._open().sendto(b"!", self._path)

    def _open(self) -> socket.socket:
        # Opened lazily and again after a fork, so each gunicorn worker has its own socket.
        with self._lock:
            if self._socket is None or self._pid != os.getpid():
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
                self._pid = os.getpid()
            return self._socket

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


class WakeupListener:
    """Receives hints on a background thread and calls `on_wakeup` for each burst."""

    def __init__(self, path: Path, on_wakeup: Callable[[], None]) -> None:
        self._path = path
        self._on_wakeup = on_wakeup
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # The last worker started takes the name over; earlier ones keep polling.
        path.unlink(missing_ok=True)
        self._socket.bind(str(path))
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="wakeup", daemon=True)

    def start(self) -> WakeupListener:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                self._socket.recv(64)
            except OSError:
                return
            if not self._closing.is_set():
                self._on_wakeup()

    def close(self) -> None:
        """Stop the thread (a last datagram unblocks it), then remove the socket."""
        self._closing.set()
        sender = WakeupSender(self._path)
        sender()
        sender.close()
        self._thread.join(timeout=2)
        self._socket.close()
        self._path.unlink(missing_ok=True)
