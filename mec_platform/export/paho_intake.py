"""The exporter's local side (paho-mqtt): messages of the export topics from the box's broker
into the on-disk queue, each acknowledged to the broker only after its batch committed.

paho's network thread only hands messages over. The work loop appends them in batches (once
the first one waited `batch_wait`, or at once when `batch_size` wait) and then acknowledges
them, so nothing acknowledged can be lost. When the queue holds `queue_limit` messages the
intake stops: unacknowledged messages stay with the box's broker (up to its own limit).

An acknowledgement must never reach a later connection: packet ids belong to a session, and
a broker that lost its state could reuse one for a message not stored yet. Each connection
therefore has a generation; messages of an older one are stored but not acknowledged (the
broker sends them again and they are queued twice: at-least-once, never lost).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt

from mec_platform.export.model import ExportSettings
from mec_platform.export.paho_clients import RecordingClient, Timing, subscriptions
from mec_platform.export.progress import ErrorLog, Tally
from mec_platform.export.sqlite_queue import QueueError, SqliteQueue

log = logging.getLogger("mec_platform.export")

FULL_LOG_EVERY = 60.0
FULL_RECHECK = 0.25
RETRY_PAUSE = 1.0


class Arrival(NamedTuple):
    """A message as paho handed it over (a tuple: one is made per message)."""

    at: float  # time.monotonic()
    generation: int
    message: mqtt.MQTTMessage


class Intake:
    """Local messages into the queue; the paho callbacks run on the client's network thread."""

    def __init__(
        self,
        client: RecordingClient,
        fifo: SqliteQueue,
        settings: ExportSettings,
        timing: Timing,
        tally: Tally,
        errors: ErrorLog,
        wake: threading.Event,
        stale_topics: tuple[str, ...] = (),
    ) -> None:
        self._client, self._fifo, self._settings = client, fifo, settings
        self._timing, self._tally, self._errors, self._wake = timing, tally, errors, wake
        self._stale_topics = stale_topics
        self._inbox: queue.SimpleQueue[Arrival] = queue.SimpleQueue()
        self._pending: deque[Arrival] = deque()
        self._generation = 0
        self._generation_lock = threading.Lock()
        self._full_since: float | None = None
        self._full_logged = 0.0
        self._retry_at = 0.0
        self._subscribed = threading.Event()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail

    @property
    def subscribed(self) -> bool:
        """True while the session on the box's broker is up and subscribed."""
        return self._subscribed.is_set()

    def start(self) -> None:
        """Connect (in the background, again after every loss)."""
        self._client.loop_start()

    def work(self, now: float) -> None:
        """Store every batch that is due."""
        self._take_arrivals()
        while self._pending and self._due(now) and self._store(now):
            pass

    def deadline(self, now: float) -> float | None:
        """When `work` has something to do next, if anything waits."""
        if not self._pending:
            return None
        if self._full_since is not None or now < self._retry_at:
            return now + FULL_RECHECK
        return self._pending[0].at + self._timing.batch_wait

    def stop(self) -> None:
        """Store what arrived (room permitting), then leave the broker."""
        self._take_arrivals()
        self._retry_at = 0.0
        while self._pending and self._store(time.monotonic()):
            pass
        self._client.disconnect()
        self._client.loop_stop()

    def _take_arrivals(self) -> None:
        while True:
            try:
                self._pending.append(self._inbox.get_nowait())
            except queue.Empty:
                return

    def _due(self, now: float) -> bool:
        if now < self._retry_at:
            return False
        return (
            len(self._pending) >= self._timing.batch_size
            or now - self._pending[0].at >= self._timing.batch_wait
        )

    def _store(self, now: float) -> bool:
        """Queue and acknowledge one batch; False when nothing more can be stored now."""
        room = self._settings.queue_limit - self._tally.queued
        if room <= 0:
            self._queue_full(now)
            return False
        take = min(room, self._timing.batch_size, len(self._pending))
        batch = [self._pending.popleft() for _ in range(take)]
        rows = [
            (a.message.topic, a.message.payload, a.message.qos, a.message.retain) for a in batch
        ]
        try:
            self._fifo.append_many(rows)
        except QueueError as exc:
            self._pending.extendleft(reversed(batch))
            self._retry_at = now + RETRY_PAUSE
            self._errors.note(f"queue not written: {exc.detail}")
            return False
        self._tally.queued += len(batch)
        self._acknowledge(batch)
        if self._full_since is not None:
            log.info("export queue has room again", extra={"full_for": now - self._full_since})
            self._full_since = None
        return True

    def _acknowledge(self, batch: list[Arrival]) -> None:
        with self._generation_lock:
            for arrival in batch:
                message = arrival.message
                if message.qos > 0 and arrival.generation == self._generation:
                    self._client.ack(message.mid, message.qos)

    def _queue_full(self, now: float) -> None:
        if self._full_since is None:
            self._full_since = now
            self._tally.full_events += 1
        elif now - self._full_logged < FULL_LOG_EVERY:
            return
        self._full_logged = now
        log.warning(
            "export queue full: further messages wait on the box's broker",
            extra={"limit": self._settings.queue_limit, "held": len(self._pending)},
        )

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._errors.note(f"the box's broker refused the exporter: {reason}")
            return
        with self._generation_lock:
            self._generation += 1
        client.subscribe(subscriptions(self._settings.topics))
        if self._stale_topics:
            # The persistent session still holds the previous run's other subscriptions.
            client.unsubscribe(list(self._stale_topics))
            self._stale_topics = ()
        log.info("exporter connected to the box's broker", extra={"session": flags.session_present})

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _m: int, codes: Any, _p: Any) -> None:
        refused = [str(code) for code in codes if code.is_failure]
        if refused:
            self._errors.note(f"the box's broker refused a subscription: {', '.join(refused)}")
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._subscribed.clear()
        with self._generation_lock:
            self._generation += 1
        if reason.is_failure:
            log.warning("exporter lost the box's broker", extra={"reason": str(reason)})

    def _on_connect_fail(self, client: mqtt.Client, _u: Any) -> None:
        error = getattr(client, "connect_error", None) or "connection failed"
        self._errors.note(f"cannot connect to the box's broker: {error}")

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(Arrival(time.monotonic(), self._generation, message))
        waiting = self._inbox.qsize()
        # Wake the loop for the first message of a batch and for a full batch, not for each.
        if waiting == 1 or waiting >= self._timing.batch_size:
            self._wake.set()
