"""Ports of the sensors context: streams, readings, threshold subscriptions, MQTT accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mec_platform.iot.ports import IotUnitOfWork
from mec_platform.registry.ports import UnitOfWork
from mec_platform.sensors.model import Reading, SensorState, SensorStream, SensorSubscription


@dataclass(frozen=True)
class Latest:
    """The newest reading of a stream and when the sensor was last heard."""

    sensor_id: str
    quantity: str
    value: float
    unit: str | None
    time: float
    last_seen: float


@dataclass(frozen=True)
class StoredAccount:
    """An MQTT account as stored: the hash only, and the extra topics it may read."""

    username: str
    kind: str
    password_hash: str
    read_topics: tuple[str, ...]
    write_topics: tuple[str, ...] = ()


class SensorStreamRepository(Protocol):
    """Each sensor's quantities with their latest value and state."""

    def get(self, sensor_id: str, quantity: str) -> SensorStream | None: ...

    def query(
        self, sensor_id: str | None, quantity: str | None, state: SensorState | None
    ) -> list[SensorStream]: ...

    def add(self, stream: SensorStream) -> None: ...

    def record_latest(self, rows: Sequence[Latest]) -> int:
        """Store each stream's newest value (the rows are one per stream); how many matched."""
        ...

    def set_state(self, sensor_id: str, quantity: str, state: SensorState) -> None: ...

    def remove(self, sensor_id: str, quantity: str) -> None: ...

    def silent(self, now: float) -> list[SensorStream]:
        """ACTIVE streams whose sensor has not been heard within its silence interval."""
        ...


class ReadingRepository(Protocol):
    """Bounded history of readings per stream."""

    def add_many(self, rows: Sequence[tuple[str, Reading]]) -> int:
        """Store (sensor_id, reading) pairs; a reading already stored (same time) is skipped."""
        ...

    def window(
        self, sensor_id: str, quantity: str, since: float | None, until: float | None, limit: int
    ) -> list[Reading]:
        """Readings in [since, until], newest first, at most `limit`."""
        ...

    def prune(self, sensor_id: str, quantity: str, keep: int) -> int:
        """Drop all but the newest `keep` readings of a stream; how many were dropped."""
        ...

    def remove_stream(self, sensor_id: str, quantity: str) -> None: ...


class SensorSubscriptionRepository(Protocol):
    """Threshold subscriptions."""

    def add(self, subscription: SensorSubscription) -> None: ...

    def get(self, subscription_id: str) -> SensorSubscription | None: ...

    def of_owner(self, owner: str | None) -> list[SensorSubscription]: ...

    def list_live(self, now: float) -> list[SensorSubscription]: ...

    def list_expired(self, now: float) -> list[SensorSubscription]: ...

    def remove(self, subscription_id: str) -> None: ...


class MqttAccountRepository(Protocol):
    """Accounts of the box's MQTT broker."""

    def get(self, username: str) -> StoredAccount | None: ...

    def put(self, account: StoredAccount, now: float) -> None:
        """Create or replace an account."""
        ...

    def remove(self, username: str) -> bool: ...

    def all(self) -> list[StoredAccount]: ...


class SensorCounters(Protocol):
    """Running totals of what the bridge did with messages (accepted, dropped per reason)."""

    def add(self, counts: Mapping[str, int]) -> None: ...

    def all(self) -> dict[str, int]: ...


class AppClients(Protocol):
    """Whether an application instance holds OAuth2 client credentials."""

    def for_app(self, app_instance_id: str) -> object | None: ...


class SensorsUnitOfWork(UnitOfWork, IotUnitOfWork, Protocol):
    """A transaction over the registry and the sensor tables."""

    @property
    def clients(self) -> AppClients: ...

    @property
    def sensor_streams(self) -> SensorStreamRepository: ...

    @property
    def sensor_readings(self) -> ReadingRepository: ...

    @property
    def sensor_subscriptions(self) -> SensorSubscriptionRepository: ...

    @property
    def mqtt_accounts(self) -> MqttAccountRepository: ...

    @property
    def sensor_counters(self) -> SensorCounters: ...


class SensorsUnitOfWorkFactory(Protocol):
    """Opens a unit of work; `write=True` for one that will commit."""

    def __call__(self, *, write: bool = False) -> SensorsUnitOfWork: ...
