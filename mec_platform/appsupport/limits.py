"""Rate limit for confirmations: a client that repeats confirm_ready/confirm_termination in a
loop gets 429 Too Many Requests (MEC 011 lists 429 for both) instead of endless 409s.

The window is kept per process: with N HTTP workers a client gets at most N times the limit,
which is enough to stop a runaway loop without a database write on every refused request.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from mec_platform.errors import TooManyRequests
from mec_platform.registry.ports import Clock


class SlidingWindowLimiter:
    """At most `limit` calls per key within any `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> int | None:
        """Seconds until `key` may call again when its window is full, else None (not counted)."""
        now = self._clock()
        with self._lock:
            calls = self._calls.get(key)
            while calls and calls[0] <= now - self._window:
                calls.popleft()
            if calls is None or len(calls) < self._limit:
                return None
            return max(1, math.ceil(calls[0] + self._window - now))

    def check(self, key: str, what: str) -> None:
        """Count one call; raise TooManyRequests when the window is full."""
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self._window:
                calls.popleft()
            if len(calls) >= self._limit:
                retry_after = max(1, math.ceil(calls[0] + self._window - now))
                raise TooManyRequests(
                    f"{what}: more than {self._limit} requests within {self._window:g} s; "
                    f"retry after {retry_after} s",
                    retry_after,
                )
            calls.append(now)
            if len(self._calls) > 10_000:  # forget idle keys so memory stays bounded
                self._calls = {k: v for k, v in self._calls.items() if v and v[-1] > now - 60}
