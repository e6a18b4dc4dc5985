"""The exporter (paho-mqtt): the export topics of the box's broker to the upstream broker
through the on-disk queue, with a status report every second.

One work loop (the caller's thread) does all queue work: it stores batches from the local
side (paho_intake), sends and settles on the upstream side (paho_delivery), and reports. The
two paho network threads only hand messages and acknowledgements over and wake it. Both
sessions reconnect by themselves after their broker restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mec_platform.export.model import ExportSettings
from mec_platform.export.paho_clients import LocalBroker, Timing, local_client, upstream_client
from mec_platform.export.paho_delivery import Delivery
from mec_platform.export.paho_intake import Intake
from mec_platform.export.progress import ErrorLog, Tally
from mec_platform.export.sqlite_queue import SqliteQueue
from mec_platform.export.status import ExporterReport

IDLE_WAKE = 0.5


class PahoForwarder:
    """Forwards the export topics until stopped."""

    def __init__(
        self,
        settings: ExportSettings,
        fifo: SqliteQueue,
        local: LocalBroker,
        report: Callable[[ExporterReport], None],
        timing: Timing | None = None,
        previous_topics: tuple[str, ...] = (),
    ) -> None:
        self._settings = settings
        self._upstream = settings.upstream.display
        self._report = report
        self._timing = timing or Timing()
        self._tally = Tally(fifo.count(), fifo.delivered(), fifo.dropped())
        self._errors = ErrorLog()
        self._wake = threading.Event()
        stale = tuple(t for t in previous_topics if t not in settings.topics)
        parts = (fifo, settings, self._timing, self._tally, self._errors, self._wake)
        self._intake = Intake(local_client(local, self._timing), *parts, stale_topics=stale)
        self._delivery = Delivery(upstream_client(settings, self._timing), *parts)
        self._next_report = 0.0

    @property
    def connected(self) -> bool:
        """True while the upstream session is up."""
        return self._delivery.connected

    def run(self, stop: threading.Event) -> None:
        """Connect both sides and forward until `stop` is set; then stop cleanly."""
        self._intake.start()
        self._delivery.start()
        try:
            while not stop.is_set():
                self._wake.wait(self._timeout(time.monotonic()))
                self._wake.clear()
                self._step(time.monotonic())
        finally:
            # Stop taking (the last arrivals are stored), let what is in flight settle.
            self._intake.stop()
            self._delivery.stop(self._timing.stop_grace)
            self._publish_status()

    def _step(self, now: float) -> None:
        self._intake.work(now)
        self._delivery.work(now)
        if now >= self._next_report:
            self._next_report = now + self._timing.status_every
            self._publish_status()

    def _timeout(self, now: float) -> float:
        deadlines = [self._next_report, now + IDLE_WAKE]
        for deadline in (self._intake.deadline(now), self._delivery.deadline()):
            if deadline is not None:
                deadlines.append(deadline)
        return max(0.0, min(deadlines) - now)

    def _publish_status(self) -> None:
        self._report(
            ExporterReport(
                upstream=self._upstream,
                topics=self._settings.topics,
                connected=self._delivery.connected,
                local_connected=self._intake.subscribed,
                last_error=self._errors.last,
                delivered=self._tally.delivered,
                dropped=self._tally.dropped,
                queue_full=self._tally.full_events,
                updated_at=time.time(),
            )
        )
