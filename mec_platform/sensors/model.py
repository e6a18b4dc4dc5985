"""Sensor streams, their readings, threshold subscriptions and an app's MQTT configuration."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SensorState(StrEnum):
    """ACTIVE while a sensor keeps talking; SUSPENDED after silence or its last will."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True)
class Reading:
    """One parsed value of one quantity."""

    quantity: str
    value: float
    unit: str | None
    time: float


def sensor_topic(sensor_id: str, quantity: str) -> str:
    """The topic of one quantity of one sensor."""
    return f"sensors/{sensor_id}/{quantity}"


@dataclass(frozen=True)
class SensorStream:
    """One quantity of one sensor: the unit offered as one MEC 011 service."""

    sensor_id: str
    quantity: str
    unit: str | None
    value: float | None
    time: float | None
    state: SensorState
    ser_instance_id: str | None
    silence_interval: int
    first_seen: float
    last_seen: float

    @property
    def topic(self) -> str:
        """The MQTT topic its readings arrive on (also its service's serName)."""
        return sensor_topic(self.sensor_id, self.quantity)


@dataclass(frozen=True)
class ThresholdCriteria:
    """Which streams a subscription watches and the limits whose crossing it reports."""

    sensor_id: str | None = None
    quantity: str | None = None
    above: float | None = None
    below: float | None = None

    def watches(self, sensor_id: str, quantity: str) -> bool:
        """True when the stream is one this subscription names (absent names match all)."""
        return self.sensor_id in (None, sensor_id) and self.quantity in (None, quantity)

    def crossed(self, previous: float | None, value: float) -> bool:
        """True when `value` lies beyond a limit that `previous` did not (edge, not level)."""
        return _beyond(self, value) and (previous is None or not _beyond(self, previous))


def _beyond(criteria: ThresholdCriteria, value: float) -> bool:
    above = criteria.above is not None and value > criteria.above
    below = criteria.below is not None and value < criteria.below
    return above or below


@dataclass(frozen=True)
class SensorSubscription:
    """A callback told when a watched stream crosses a threshold."""

    subscription_id: str
    owner: str
    callback_reference: str
    criteria: ThresholdCriteria
    expiry_deadline: float | None = None


@dataclass(frozen=True)
class MqttConfiguration:
    """What an application needs to use the box's MQTT broker; the password only when issued."""

    host: str
    port: int
    username: str
    password: str | None
    read_topics: tuple[str, ...]
    read_write_topics: tuple[str, ...]
