"""The exporter's running tallies and its error log, shared by its intake and delivery sides."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("mec_platform.export")

REPEAT_LOG_EVERY = 60.0


@dataclass
class Tally:
    """Messages waiting, delivered and given up on (mirrors of the queue's counters, kept in
    memory so that the work loop does not query them), and how often the queue was full."""

    queued: int = 0
    delivered: int = 0
    dropped: int = 0
    full_events: int = 0


class ErrorLog:
    """Remembers the latest error for the status; logs each one, a repeat at most once a minute."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.last: str | None = None
        self._clock = clock
        self._logged: tuple[str | None, float] = (None, 0.0)

    def note(self, text: str) -> None:
        """Record `text` as the latest error (called from any thread)."""
        self.last = text
        now = self._clock()
        previous, when = self._logged
        if text != previous or now - when >= REPEAT_LOG_EVERY:
            self._logged = (text, now)
            log.error("export error", extra={"error": text})

    def remember(self, text: str) -> None:
        """Record `text` as the latest error without logging it (it was logged otherwise)."""
        self.last = text
