"""Use cases of the timing context: the platform's current time and timing capabilities.

Asking the time daemon costs a process spawn or two, too slow for every request, so the
synchronisation state is cached for a short while; the clock itself is read fresh for
every answer. The cache expiry runs on a monotonic clock so that a step of the wall clock
(the very thing a time daemon may do) neither freezes nor flushes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mec_platform.timing.model import (
    ClockSync,
    CurrentTime,
    TimingCaps,
    split_nanos,
    status_of,
)
from mec_platform.timing.ports import ClockSyncSource


class TimingService:
    """Answers MEC 011 timing queries from the host clock and a clock sync source."""

    def __init__(
        self,
        source: ClockSyncSource,
        clock_ns: Callable[[], int] = time.time_ns,
        cache_for: float = 2.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._clock_ns = clock_ns
        self._cache_for = cache_for
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: ClockSync | None = None
        self._read_at = 0.0

    def clock_sync(self) -> ClockSync:
        """Return the synchronisation state, read again once the cached one is too old."""
        with self._lock:
            now = self._monotonic()
            if self._cached is None or now - self._read_at >= self._cache_for:
                self._cached = self._source.read()
                self._read_at = now
            return self._cached

    def current_time(self) -> CurrentTime:
        """Return the platform time and its traceability (MEC 011 clause 7.1.2.5)."""
        sync = self.clock_sync()
        seconds, nanos = split_nanos(self._clock_ns())
        return CurrentTime(seconds=seconds, nano_seconds=nanos, status=status_of(sync))

    def timing_caps(self) -> TimingCaps:
        """Return the platform timing capabilities (MEC 011 clause 7.1.2.4)."""
        sync = self.clock_sync()
        seconds, nanos = split_nanos(self._clock_ns())
        return TimingCaps(
            timestamp_seconds=seconds,
            timestamp_nanos=nanos,
            ntp_servers=sync.ntp_servers,
            ptp_masters=sync.ptp_masters,
        )
