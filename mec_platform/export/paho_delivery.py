"""The exporter's upstream side (paho-mqtt): the queue to the upstream broker, in order.

At most `window` QoS 1 publications are in flight, taken in queue order; a message leaves the
queue once the upstream broker acknowledged it (removals are batched like appends). After a
reconnect paho resends the unacknowledged ones first, in order; after a restart the exporter
starts again at the queue's head. QoS 1 is at-least-once: a message may reach the upstream
broker twice around a reconnect or a crash, but first arrivals keep the queue's order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from mec_platform.export.model import ExportSettings
from mec_platform.export.paho_clients import RecordingClient, Timing
from mec_platform.export.progress import ErrorLog, Tally
from mec_platform.export.sqlite_queue import QueueError, SqliteQueue

log = logging.getLogger("mec_platform.export")


class Delivery:
    """Queued messages to the upstream broker; paho callbacks run on its network thread."""

    def __init__(
        self,
        client: RecordingClient,
        fifo: SqliteQueue,
        settings: ExportSettings,
        timing: Timing,
        tally: Tally,
        errors: ErrorLog,
        wake: threading.Event,
    ) -> None:
        self._client, self._fifo, self._settings = client, fifo, settings
        self._timing, self._tally, self._errors, self._wake = timing, tally, errors, wake
        self._name = settings.upstream.display
        self._up = threading.Event()
        self._acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._inflight: dict[int, int] = {}  # paho message id -> queue seq
        self._sent_through = 0
        self._done: list[int] = []
        self._done_since = 0.0
        # Wake the loop once a quarter of the window is free again, not for every PUBACK.
        self._wake_at = (1, max(1, settings.window // 4))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_publish = self._on_publish

    @property
    def connected(self) -> bool:
        """True while the upstream session is up."""
        return self._up.is_set()

    def start(self) -> None:
        """Connect (in the background, again after every loss, with back-off)."""
        self._client.loop_start()

    def work(self, now: float) -> None:
        """Settle acknowledged messages and fill the window."""
        self._collect(now)
        if self._done and (
            len(self._done) >= self._timing.batch_size
            or now - self._done_since >= self._timing.batch_wait
        ):
            self._forget()
        self._feed()

    def deadline(self) -> float | None:
        """When acknowledged messages are due to leave the queue."""
        return self._done_since + self._timing.batch_wait if self._done else None

    def stop(self, grace: float) -> None:
        """Wait up to `grace` seconds for messages in flight, settle them, disconnect."""
        deadline = time.monotonic() + grace
        while self._inflight and self._up.is_set() and time.monotonic() < deadline:
            self._wake.wait(0.05)
            self._wake.clear()
            self._collect(time.monotonic())
        self._collect(time.monotonic())
        if self._done:
            self._forget()
        self._client.disconnect()
        self._client.loop_stop()
        self._up.clear()

    def _collect(self, now: float) -> None:
        while True:
            try:
                mid = self._acked.get_nowait()
            except queue.Empty:
                return
            seq = self._inflight.pop(mid, None)
            if seq is not None:
                if not self._done:
                    self._done_since = now
                self._done.append(seq)

    def _forget(self) -> None:
        try:
            removed = self._fifo.remove(self._done)
        except QueueError as exc:
            self._errors.note(f"queue not updated: {exc.detail}")
            return
        self._tally.queued -= removed
        self._tally.delivered += removed
        self._done = []

    def _feed(self) -> None:
        room = self._settings.window - len(self._inflight)
        if room <= 0 or not self._up.is_set():
            return
        try:
            messages = self._fifo.peek(self._sent_through, room)
        except QueueError as exc:
            self._errors.note(f"queue not read: {exc.detail}")
            return
        for message in messages:
            topic = self._settings.upstream_topic(message.topic)
            try:
                info = self._client.publish(topic, message.payload, 1, message.retain)
            except ValueError as exc:
                self._drop(message.seq, topic, str(exc))
                self._sent_through = message.seq
                continue
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                # paho's packet id wrapped onto one still in flight: this one again later.
                return
            # Published while the connection drops: paho keeps it and sends it on reconnect.
            self._inflight[info.mid] = message.seq
            self._sent_through = message.seq

    def _drop(self, seq: int, topic: str, reason: str) -> None:
        # Only a message paho refuses to send (a topic or payload too long for MQTT) lands
        # here; keeping it would block the queue for good.
        try:
            dropped = self._fifo.drop([seq])
        except QueueError as exc:
            self._errors.note(f"queue not updated: {exc.detail}")
            return
        self._tally.queued -= dropped
        self._tally.dropped += dropped
        log.error("export message dropped", extra={"topic": topic[:200], "reason": reason})

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._errors.note(f"upstream refused the connection: {reason}")
            return
        self._up.set()
        self._wake.set()
        log.info("exporter connected upstream", extra={"upstream": self._name})

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        if was_up and reason.is_failure:
            self._errors.remember(f"upstream connection lost: {reason}")
            log.warning("exporter lost the upstream broker", extra={"reason": str(reason)})

    def _on_connect_fail(self, client: mqtt.Client, _u: Any) -> None:
        error = getattr(client, "connect_error", None) or "connection failed"
        self._errors.note(f"cannot connect to {self._name}: {error}")

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        self._acked.put(mid)
        if self._acked.qsize() in self._wake_at:
            self._wake.set()
