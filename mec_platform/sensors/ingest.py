"""Use cases of the sensor bridge: store readings, announce streams, suspend silent sensors.

The bridge hands over batches of parsed messages; each batch is one transaction (readings,
latest values, new services, state changes and threshold notifications together), and the
bridge acknowledges the MQTT messages only after it committed. The bridge process is the only
writer of streams except `forget` through the API, which the cache survives (a stream it
believes in but cannot update sends the batch round again without the cache).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from mec_platform.appsupport.model import AppState
from mec_platform.notifications.model import NewMessage
from mec_platform.registry.access import insert_app
from mec_platform.registry.model import AppInstance, ServiceState
from mec_platform.registry.ports import Clock
from mec_platform.registry.service import ServiceRegistry
from mec_platform.sensors.model import Reading, SensorState, SensorStream, SensorSubscription
from mec_platform.sensors.ports import Latest, SensorsUnitOfWork, SensorsUnitOfWorkFactory
from mec_platform.sensors.streams import BRIDGE_APP_ID, BRIDGE_APP_NAME, ServiceShape
from mec_platform.sensors.urls import SensorUrls
from mec_platform.sensors.wire import threshold_notification

log = logging.getLogger("mec_platform.sensors")

Key = tuple[str, str]
DeviceRecorder = Callable[[SensorsUnitOfWork, str, Mapping[str, str | None], float], None]


@dataclass(frozen=True)
class Message:
    """The readings of one MQTT message of one sensor."""

    sensor_id: str
    readings: tuple[Reading, ...]
    received_at: float


@dataclass(frozen=True)
class IngestOptions:
    """Silence interval given to new streams and how much history each stream keeps."""

    silence_interval: int = 60
    history: int = 10_000


@dataclass
class IngestResult:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    new_streams: list[Key] = field(default_factory=list)
    notifications: int = 0


class StreamRetry(Exception):
    """A cached stream vanished (forgotten through the API): run the batch again uncached."""


class SensorIngest:
    """Turns sensor messages into stored readings, services and notifications."""

    def __init__(
        self,
        uows: SensorsUnitOfWorkFactory,
        registry: ServiceRegistry,
        shape: ServiceShape,
        urls: SensorUrls,
        clock: Clock,
        options: IngestOptions = IngestOptions(),
        record_device: DeviceRecorder | None = None,
    ) -> None:
        self._uows = uows
        self._registry = registry
        self._shape = shape
        self._urls = urls
        self._clock = clock
        self._options = options
        self._record_device = record_device
        self._known: dict[Key, SensorStream] = {}

    def ensure_bridge_app(self) -> None:
        """The application instance owning the sensor services; created once, always ready."""
        with self._uows(write=True) as uow:
            app = uow.apps.get(BRIDGE_APP_ID)
            if app is None:
                insert_app(uow, AppInstance(BRIDGE_APP_ID, BRIDGE_APP_NAME, AppState.READY))
            elif not app.ready:
                uow.apps.update(replace(app, state=AppState.READY))
            uow.commit()

    # -- readings ----------------------------------------------------------------------------
    def ingest(
        self, messages: Sequence[Message], counts: Mapping[str, int] | None = None
    ) -> IngestResult:
        """Store a batch (and the bridge's message totals) in one transaction."""
        try:
            return self._ingest(messages, counts or {})
        except StreamRetry:
            self._known.clear()
            return self._ingest(messages, counts or {})

    def _ingest(self, messages: Sequence[Message], counts: Mapping[str, int]) -> IngestResult:
        result = IngestResult()
        now = self._clock()
        pending = dict(self._known)
        with self._uows(write=True) as uow:
            batch = _group(messages)
            queued = False
            subscriptions = uow.sensor_subscriptions.list_live(now) if batch else []
            latest: list[Latest] = []
            stored: list[tuple[str, Reading]] = []
            for key, (readings, seen) in batch.items():
                unit = next((r.unit for r in readings if r.unit), None)
                stream, created = self._stream(uow, pending, key, unit, now)
                if created:
                    result.new_streams.append(key)
                if stream.state is SensorState.SUSPENDED:
                    queued = self._set_state(uow, stream, SensorState.ACTIVE, now) or queued
                readings = _with_units(readings, stream.unit)
                messages_out = _crossings(stream, readings, subscriptions, self._urls)
                if messages_out:
                    uow.outbox.enqueue(messages_out, now)
                    queued = True
                    result.notifications += len(messages_out)
                newest = max(readings, key=lambda reading: reading.time)
                if stream.time is not None and stream.time > newest.time:
                    newest = Reading(stream.quantity, stream.value or 0.0, stream.unit, stream.time)
                latest.append(Latest(*key, newest.value, newest.unit, newest.time, seen))
                pending[key] = replace(
                    stream,
                    value=newest.value,
                    unit=newest.unit,
                    time=newest.time,
                    state=SensorState.ACTIVE,
                    last_seen=seen,
                )
                stored.extend((key[0], reading) for reading in readings)
            if uow.sensor_streams.record_latest(latest) != len(latest):
                raise StreamRetry()
            result.stored = uow.sensor_readings.add_many(stored)
            result.duplicates = len(stored) - result.stored
            uow.sensor_counters.add(counts)
            uow.commit()
        # The cache learns only what was committed.
        self._known = pending
        # A new stream's service may have queued availability notifications.
        self._registry.after_commit(queued or bool(result.new_streams))
        return result

    def _stream(
        self,
        uow: SensorsUnitOfWork,
        pending: dict[Key, SensorStream],
        key: Key,
        unit: str | None,
        now: float,
    ) -> tuple[SensorStream, bool]:
        known = pending.get(key)
        if known is not None:
            return known, False
        stored = uow.sensor_streams.get(*key)
        if stored is not None:
            pending[key] = stored
            return stored, False
        return self._create(uow, pending, key, unit, self._options.silence_interval, now), True

    def _create(
        self,
        uow: SensorsUnitOfWork,
        pending: dict[Key, SensorStream],
        key: Key,
        unit: str | None,
        silence_interval: int,
        now: float,
    ) -> SensorStream:
        sensor_id, quantity = key
        service, _queued = self._registry.register_in(
            uow, BRIDGE_APP_ID, self._shape.draft(sensor_id, quantity, ServiceState.ACTIVE), now
        )
        stream = SensorStream(
            sensor_id=sensor_id,
            quantity=quantity,
            unit=unit,
            value=None,
            time=None,
            state=SensorState.ACTIVE,
            ser_instance_id=service.ser_instance_id,
            silence_interval=silence_interval,
            first_seen=now,
            last_seen=now,
        )
        uow.sensor_streams.add(stream)
        if self._record_device is not None:
            self._record_device(uow, sensor_id, {quantity: unit}, now)
        pending[key] = stream
        log.info("new sensor stream", extra={"sensor_id": sensor_id, "quantity": quantity})
        return stream

    def _set_state(
        self, uow: SensorsUnitOfWork, stream: SensorStream, state: SensorState, now: float
    ) -> bool:
        uow.sensor_streams.set_state(stream.sensor_id, stream.quantity, state)
        if stream.ser_instance_id is None:
            return False
        service_state = (
            ServiceState.ACTIVE if state is SensorState.ACTIVE else ServiceState.SUSPENDED
        )
        return self._registry.set_state_in(uow, stream.ser_instance_id, service_state, now)

    # -- announcements and status ------------------------------------------------------------
    def announce(
        self, sensor_id: str, units: Mapping[str, str | None], silence_interval: int | None
    ) -> list[Key]:
        """A sensor's retained announcement: its streams exist (and are services) from now on."""
        now = self._clock()
        created: list[Key] = []
        interval = silence_interval or self._options.silence_interval
        with self._uows(write=True) as uow:
            pending: dict[Key, SensorStream] = {}
            for quantity, unit in units.items():
                key = (sensor_id, quantity)
                if uow.sensor_streams.get(*key) is None:
                    self._create(uow, pending, key, unit, interval, now)
                    created.append(key)
            uow.commit()
        self._known.update(pending)
        self._registry.after_commit(bool(created))
        return created

    def set_online(self, sensor_id: str, online: bool) -> int:
        """The sensor's status topic (its last will says offline): every stream follows."""
        now = self._clock()
        state = SensorState.ACTIVE if online else SensorState.SUSPENDED
        queued = False
        with self._uows(write=True) as uow:
            changed = [
                s for s in uow.sensor_streams.query(sensor_id, None, None) if s.state is not state
            ]
            for stream in changed:
                queued = self._set_state(uow, stream, state, now) or queued
            uow.commit()
        self._forget_cached(changed)
        self._registry.after_commit(queued)
        return len(changed)

    def _forget_cached(self, streams: Sequence[SensorStream]) -> None:
        # Streams changed outside a batch are read afresh by the next batch that needs them.
        for stream in streams:
            self._known.pop((stream.sensor_id, stream.quantity), None)

    # -- housekeeping ------------------------------------------------------------------------
    def sweep(self) -> int:
        """Suspend streams silent beyond their interval and drop expired subscriptions."""
        now = self._clock()
        queued = False
        with self._uows(write=True) as uow:
            silent = uow.sensor_streams.silent(now)
            for stream in silent:
                queued = self._set_state(uow, stream, SensorState.SUSPENDED, now) or queued
                log.info(
                    "sensor silent: suspended",
                    extra={"sensor_id": stream.sensor_id, "quantity": stream.quantity},
                )
            for subscription in uow.sensor_subscriptions.list_expired(now):
                uow.sensor_subscriptions.remove(subscription.subscription_id)
                uow.outbox.drop_for_subscription(subscription.subscription_id, now)
            uow.commit()
        self._forget_cached(silent)
        self._registry.after_commit(queued)
        return len(silent)

    def prune(self) -> int:
        """Keep each stream's history within its bound."""
        dropped = 0
        with self._uows(write=True) as uow:
            for stream in uow.sensor_streams.query(None, None, None):
                dropped += uow.sensor_readings.prune(
                    stream.sensor_id, stream.quantity, self._options.history
                )
            uow.commit()
        return dropped


def _with_units(readings: Sequence[Reading], known: str | None) -> list[Reading]:
    # A plain number carries no unit: it has the one the stream last had.
    filled = []
    for reading in readings:
        if reading.unit:
            known = reading.unit
        elif known:
            reading = replace(reading, unit=known)
        filled.append(reading)
    return filled


def _group(messages: Sequence[Message]) -> dict[Key, tuple[list[Reading], float]]:
    batch: dict[Key, tuple[list[Reading], float]] = {}
    for message in messages:
        for reading in message.readings:
            key = (message.sensor_id, reading.quantity)
            entry = batch.get(key)
            if entry is None:
                batch[key] = ([reading], message.received_at)
            else:
                entry[0].append(reading)
                batch[key] = (entry[0], max(entry[1], message.received_at))
    return batch


def _crossings(
    stream: SensorStream,
    readings: Sequence[Reading],
    subscriptions: Sequence[SensorSubscription],
    urls: SensorUrls,
) -> list[NewMessage]:
    watching = [s for s in subscriptions if s.criteria.watches(stream.sensor_id, stream.quantity)]
    if not watching:
        return []
    out: list[NewMessage] = []
    previous = stream.value
    for reading in sorted(readings, key=lambda r: r.time):
        for subscription in watching:
            if subscription.criteria.crossed(previous, reading.value):
                body = threshold_notification(subscription, stream, reading, urls)
                out.append(
                    NewMessage(subscription.subscription_id, subscription.callback_reference, body)
                )
        previous = reading.value
    return out
