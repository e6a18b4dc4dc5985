"""An exclusive lock shared by every platform process through a lock file (flock), for files
several processes rewrite: the signing keys and the maintenance access files."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_POLL = 0.02


@contextmanager
def exclusive_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created 0600), waiting for it without limit or at
    most `timeout` seconds (then TimeoutError). Closing the file releases the lock."""
    # 0600: another local user must not be able to hold the lock and stall every change.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if timeout is None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        else:
            _acquire_within(descriptor, path, timeout)
        yield
    finally:
        os.close(descriptor)


def _acquire_within(descriptor: int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path}: held by another process for too long") from None
            time.sleep(_POLL)
