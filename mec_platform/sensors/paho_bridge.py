"""The sensor bridge's MQTT side (paho-mqtt): a persistent QoS 1 session on the box's broker,
messages acknowledged only once their readings are committed.

paho's network thread only queues incoming messages; the bridge thread takes them in
batches (up to `batch_size`, or what arrived within `batch_wait` of the first), parses them,
hands the batch to the ingest use case, and acknowledges every message of the batch after
the commit. A message that cannot be stored (database down) stays unacknowledged: the batch
is tried again, and after a crash the broker redelivers it to the persistent session.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from mec_platform.errors import PlatformError
from mec_platform.sensors.ingest import Message, SensorIngest
from mec_platform.sensors.payloads import (
    PayloadLimits,
    PayloadRejected,
    parse_announcement,
    parse_payload,
    parse_status,
)
from mec_platform.sensors.topics import SensorTopics, TopicMatch

log = logging.getLogger("mec_platform.sensor_bridge")

RETRY_PAUSE = 1.0


@dataclass(frozen=True)
class BridgeOptions:
    """Where the broker is, who the bridge is, and how it batches."""

    host: str
    port: int
    username: str
    password: str
    client_id: str = "umec-sensor-bridge"
    batch_size: int = 500
    batch_wait: float = 0.02
    keepalive: int = 30


class Received(NamedTuple):
    """A message as paho handed it over, with the wall-clock time it arrived."""

    message: mqtt.MQTTMessage
    at: float


class DropLog:
    """One log line per reason and second, however many messages are dropped."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}
        self._since: Counter[str] = Counter()

    def dropped(self, reason: str, topic: str) -> None:
        self._since[reason] += 1
        now = self._clock()
        if now - self._last.get(reason, -1e9) >= 1.0:
            log.warning(
                "sensor message dropped",
                extra={"reason": reason, "topic": topic[:200], "count": self._since[reason]},
            )
            self._last[reason] = now
            self._since[reason] = 0


class PahoSensorBridge:
    """Consumes sensor topics into the ingest use case until stopped."""

    def __init__(
        self,
        ingest: SensorIngest,
        topics: SensorTopics,
        options: BridgeOptions,
        limits: PayloadLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ingest = ingest
        self._topics = topics
        self._options = options
        self._limits = limits or PayloadLimits()
        self._clock = clock
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._drops = DropLog()
        self._client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        options = self._options
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        client.username_pw_set(options.username, options.password)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # -- paho callbacks (network thread) -------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the sensor bridge", extra={"reason": str(reason)})
            return
        # The persistent session keeps the subscriptions; subscribing again is harmless and
        # covers a broker that lost its state.
        client.subscribe([(f, 1) for f in self._topics.subscription_filters()])
        log.info("sensor bridge connected", extra={"broker": self._broker()})

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        log.warning("sensor bridge disconnected", extra={"reason": str(reason)})

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        # The receive time is taken once: a batch tried again stores the same readings.
        self._inbox.put(Received(message, self._clock()))

    def _broker(self) -> str:
        return f"{self._options.host}:{self._options.port}"

    # -- bridge thread ---------------------------------------------------------------------
    def run(self, stop: threading.Event, chores: Callable[[], None] = lambda: None) -> None:
        """Connect, then store batches until `stop` is set; `chores` runs between batches."""
        self._ingest.ensure_bridge_app()
        self._client.connect_async(
            self._options.host, self._options.port, keepalive=self._options.keepalive
        )
        self._client.loop_start()
        try:
            while not stop.is_set():
                batch = self._take(stop)
                if batch:
                    self._settle(batch, stop)
                chores()
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def _take(self, stop: threading.Event) -> list[Received]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._options.batch_wait
        while len(batch) < self._options.batch_size and not stop.is_set():
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get_nowait()
                    if remaining <= 0
                    else self._inbox.get(timeout=remaining)
                )
            except queue.Empty:
                break
        return batch

    def _settle(self, batch: list[Received], stop: threading.Event) -> None:
        while True:
            try:
                self._store(batch)
            except PlatformError as exc:
                # The database is down or busy: nothing is acknowledged; try the batch again.
                log.error("readings not stored; retrying", extra={"error": exc.detail})
                if stop.wait(RETRY_PAUSE):
                    return
                continue
            for message, _at in batch:
                if message.qos > 0:
                    self._client.ack(message.mid, message.qos)
            return

    def _store(self, batch: list[Received]) -> None:
        pending: list[Message] = []
        counts: Counter[str] = Counter()
        for message, received in batch:
            match = self._topics.match(message.topic)
            if match is None:
                counts["bad_topic"] += 1
                self._drops.dropped("bad_topic", message.topic)
                continue
            if match.kind == "reading":
                self._reading(message, received, match, pending, counts)
                continue
            # Announcements and status changes take effect after the readings before them.
            self._flush(pending, counts)
            self._control(message, match.kind, match.sensor_id, counts)
        self._flush(pending, counts)

    def _flush(self, pending: list[Message], counts: Counter[str]) -> None:
        if not pending and not counts:
            return
        self._ingest.ingest(pending, dict(counts))
        pending.clear()
        counts.clear()

    def _reading(
        self,
        message: mqtt.MQTTMessage,
        received: float,
        match: TopicMatch,
        pending: list[Message],
        counts: Counter[str],
    ) -> None:
        sensor_id, quantity = match.sensor_id, match.quantity or ""
        try:
            readings = parse_payload(
                message.payload, quantity, received, self._limits, sensor_id=sensor_id
            )
        except PayloadRejected as exc:
            counts[exc.reason] += 1
            self._drops.dropped(exc.reason, message.topic)
            return
        counts["accepted"] += 1
        pending.append(Message(sensor_id, tuple(readings), received))

    def _control(
        self, message: mqtt.MQTTMessage, kind: str, sensor_id: str, counts: Counter[str]
    ) -> None:
        try:
            if kind == "announce":
                announcement = parse_announcement(message.payload, self._limits)
                self._ingest.announce(
                    sensor_id, announcement.quantities, announcement.silence_interval
                )
            else:
                self._ingest.set_online(sensor_id, parse_status(message.payload))
        except PayloadRejected as exc:
            counts[exc.reason] += 1
            self._drops.dropped(exc.reason, message.topic)
            return
        counts[kind] += 1
