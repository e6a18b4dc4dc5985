"""The sensors API's JSON (camelCase, RFC 3339 times) <-> the sensor domain.

Bodies reaching these functions were validated against specs/platform_sensors.yaml by connexion,
but the rules are checked here again (types, finite limits, ids, times) so that the core never
trusts the edge and every refusal names the offending field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mec_platform.errors import InvalidInput
from mec_platform.export.model import ExportStatus
from mec_platform.registry.access import check_callback_uri
from mec_platform.sensors.model import (
    MqttConfiguration,
    Reading,
    SensorState,
    SensorStream,
    SensorSubscription,
    ThresholdCriteria,
)
from mec_platform.sensors.topics import valid_id
from mec_platform.sensors.urls import SensorUrls

NOTIFICATION_TYPE = "SensorThresholdNotification"
MQTT_PROTOCOL = "MQTT"
MQTT_VERSION = "3.1.1"
_CRITERIA_MEMBERS = frozenset({"sensorId", "quantity", "above", "below"})
# RFC 3339 clause 5.6 date-time; fromisoformat alone would take ISO 8601 forms such as
# "20250601T080000Z" or a date without a time, and times without an offset.
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def timestamp(seconds: float) -> str:
    """RFC 3339 UTC time; microseconds only when the time has a fraction."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: object, field: str) -> float:
    """Unix seconds of an RFC 3339 date-time with an offset, or InvalidInput naming `field`."""
    if isinstance(text, str) and _DATE_TIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text.upper()).timestamp()
        except ValueError:
            pass  # well-formed but impossible, e.g. month 13: refused below
    raise InvalidInput(
        f"{field}: '{str(text)[:40]}' is not an RFC 3339 date-time with a time zone "
        "(e.g. 2025-06-01T08:00:00Z)"
    )


def _with_optional(body: dict[str, Any], **members: Any) -> dict[str, Any]:
    body.update({name: value for name, value in members.items() if value is not None})
    return body


def sensor_to_wire(stream: SensorStream, urls: SensorUrls) -> dict[str, Any]:
    """A SensorInfo document."""
    body: dict[str, Any] = {
        "sensorId": stream.sensor_id,
        "quantity": stream.quantity,
        "state": stream.state.value,
        "topic": stream.topic,
        "silenceInterval": stream.silence_interval,
        "firstSeen": timestamp(stream.first_seen),
        "lastSeen": timestamp(stream.last_seen),
        "_links": {
            "self": {"href": urls.sensor(stream.sensor_id, stream.quantity)},
            "readings": {"href": urls.readings(stream.sensor_id, stream.quantity)},
        },
    }
    return _with_optional(
        body,
        unit=stream.unit,
        value=stream.value,
        time=None if stream.time is None else timestamp(stream.time),
        serInstanceId=stream.ser_instance_id,
    )


def reading_to_wire(reading: Reading) -> dict[str, Any]:
    """A SensorReading document."""
    return _with_optional(
        {"value": reading.value, "time": timestamp(reading.time)}, unit=reading.unit
    )


def state_from_wire(value: str | None) -> SensorState | None:
    """The `state` query parameter."""
    if value is None:
        return None
    try:
        return SensorState(value)
    except ValueError:
        names = ", ".join(s.value for s in SensorState)
        raise InvalidInput(f"state: '{value[:40]}' is not one of {names}") from None


def _identifier(body: dict[str, Any], name: str, where: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not valid_id(value):
        raise InvalidInput(
            f"{where}.{name}: '{str(value)[:80]}' is not a sensor id or quantity (1 to 64 "
            "letters, digits and '_.:-', starting with a letter or digit)"
        )
    return value


def _limit(body: dict[str, Any], name: str, where: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    # bool is an int in Python; JSON true is not a number. NaN and Infinity, which Python's
    # JSON parser accepts, would never (or always) compare as crossed.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where}.{name}: '{str(value)[:40]}' is not a finite number")
    return float(value)


def criteria_from_wire(body: object, where: str = "criteria") -> ThresholdCriteria:
    """ThresholdCriteria from JSON: at least one finite limit of `above` and `below`."""
    if not isinstance(body, dict):
        raise InvalidInput(f"{where}: must be an object")
    unknown = sorted(set(body) - _CRITERIA_MEMBERS)
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}: is not a member of ThresholdCriteria")
    criteria = ThresholdCriteria(
        sensor_id=_identifier(body, "sensorId", where),
        quantity=_identifier(body, "quantity", where),
        above=_limit(body, "above", where),
        below=_limit(body, "below", where),
    )
    if criteria.above is None and criteria.below is None:
        raise InvalidInput(f"{where}: give above, below or both")
    return criteria


def criteria_to_wire(criteria: ThresholdCriteria) -> dict[str, Any]:
    """ThresholdCriteria as JSON, without absent members."""
    return _with_optional(
        {},
        sensorId=criteria.sensor_id,
        quantity=criteria.quantity,
        above=criteria.above,
        below=criteria.below,
    )


@dataclass(frozen=True)
class SubscriptionRequest:
    """The writable members of a SensorSubscription, checked."""

    callback_reference: str
    criteria: ThresholdCriteria
    expiry_deadline: float | None


def subscription_request_from_wire(body: object) -> SubscriptionRequest:
    """What a POST /subscriptions body asks for (read-only members are ignored)."""
    if not isinstance(body, dict):
        raise InvalidInput("body: must be a SensorSubscription object")
    callback = body.get("callbackReference")
    if not isinstance(callback, str):
        raise InvalidInput("callbackReference: is required, an absolute http(s) URI")
    deadline = body.get("expiryDeadline")
    return SubscriptionRequest(
        callback_reference=check_callback_uri(callback, "callbackReference"),
        criteria=criteria_from_wire(body.get("criteria")),
        expiry_deadline=None if deadline is None else parse_time(deadline, "expiryDeadline"),
    )


def subscription_to_wire(subscription: SensorSubscription, urls: SensorUrls) -> dict[str, Any]:
    """A SensorSubscription document."""
    deadline = subscription.expiry_deadline
    body: dict[str, Any] = {
        "subscriptionId": subscription.subscription_id,
        "callbackReference": subscription.callback_reference,
        "criteria": criteria_to_wire(subscription.criteria),
        "_links": {"self": {"href": urls.subscription(subscription.subscription_id)}},
    }
    return _with_optional(body, expiryDeadline=None if deadline is None else timestamp(deadline))


def threshold_notification(
    subscription: SensorSubscription, stream: SensorStream, reading: Reading, urls: SensorUrls
) -> dict[str, Any]:
    """The SensorThresholdNotification telling a subscriber `reading` crossed a limit."""
    body: dict[str, Any] = {
        "notificationType": NOTIFICATION_TYPE,
        "subscriptionId": subscription.subscription_id,
        "sensorId": stream.sensor_id,
        "quantity": stream.quantity,
        "value": reading.value,
        "time": timestamp(reading.time),
        "criteria": criteria_to_wire(subscription.criteria),
        "_links": {
            "subscription": {"href": urls.subscription(subscription.subscription_id)},
            "sensor": {"href": urls.sensor(stream.sensor_id, stream.quantity)},
        },
    }
    return _with_optional(body, unit=reading.unit or stream.unit)


def mqtt_configuration_to_wire(configuration: MqttConfiguration) -> dict[str, Any]:
    """An MqttConfiguration document; `password` only when the configuration carries one."""
    body: dict[str, Any] = {
        "host": configuration.host,
        "port": configuration.port,
        "protocol": MQTT_PROTOCOL,
        "version": MQTT_VERSION,
        "username": configuration.username,
        "readTopics": list(configuration.read_topics),
        "readWriteTopics": list(configuration.read_write_topics),
    }
    return _with_optional(body, password=configuration.password)


def export_status_to_wire(status: ExportStatus) -> dict[str, Any]:
    """An ExportStatus document."""
    oldest, updated = status.oldest_queued_at, status.updated_at
    body: dict[str, Any] = {
        "name": status.name,
        "upstream": status.upstream,
        "topics": list(status.topics),
        "backlog": status.backlog,
        "delivered": status.delivered,
        "connected": status.connected,
    }
    return _with_optional(
        body,
        oldestQueuedAt=None if oldest is None else timestamp(oldest),
        lastError=status.last_error or None,
        updatedAt=None if updated is None else timestamp(updated),
    )
