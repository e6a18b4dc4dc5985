"""One writer at a time on the embedded SQLite database, queued by the kernel.

SQLite has a single write lock. Writers that find it taken poll with growing sleeps (its busy
handler), which under contention from several gunicorn workers and the notification worker
produced a registration tail of over a second. Writers therefore queue on an exclusive
`flock` of a file next to the database first (the kernel hands it over the moment it is
released) and take SQLite's lock uncontended. A thread lock orders the threads of one
process, since flock is held per open file, not per thread.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class SqliteWriteGate:
    """Exclusive, blocking gate shared by every process that writes one SQLite file."""

    def __init__(self, database_path: Path) -> None:
        self._path = database_path.with_name(database_path.name + ".write-lock")
        self._threads = threading.Lock()
        self._fd = -1
        self._pid = 0

    def acquire(self) -> None:
        """Wait for our turn to write."""
        self._threads.acquire()
        try:
            fcntl.flock(self._open(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        """Let the next writer in."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _open(self) -> int:
        # Opened lazily and again after a fork: a descriptor inherited from the parent would
        # share its lock with the parent's.
        if self._fd < 0 or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd
