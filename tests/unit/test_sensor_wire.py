"""Unit tests of the sensors API wire mappers (camelCase JSON, RFC 3339 times <-> domain)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.export.model import ExportStatus
from mec_platform.sensors.model import (
    MqttConfiguration,
    Reading,
    SensorState,
    SensorStream,
    SensorSubscription,
    ThresholdCriteria,
)
from mec_platform.sensors.urls import SensorUrls
from mec_platform.sensors.wire import (
    criteria_from_wire,
    criteria_to_wire,
    export_status_to_wire,
    mqtt_configuration_to_wire,
    parse_time,
    reading_to_wire,
    sensor_to_wire,
    state_from_wire,
    subscription_request_from_wire,
    subscription_to_wire,
    threshold_notification,
    timestamp,
)

URLS = SensorUrls("https://mec.example/")
JUNE = 1_748_764_800.0  # 2025-06-01T08:00:00Z


def stream(**changes: Any) -> SensorStream:
    """A stream of greenhouse-1 temperature with every optional member set."""
    fields: dict[str, Any] = {
        "sensor_id": "greenhouse-1",
        "quantity": "temperature",
        "unit": "Cel",
        "value": 21.5,
        "time": JUNE + 30,
        "state": SensorState.ACTIVE,
        "ser_instance_id": "svc-1",
        "silence_interval": 60,
        "first_seen": JUNE - 3600,
        "last_seen": JUNE + 31,
    }
    return SensorStream(**{**fields, **changes})


def subscription(criteria: ThresholdCriteria, deadline: float | None = None) -> SensorSubscription:
    """A subscription of owner prov-a to the given criteria."""
    return SensorSubscription("sub-1", "prov-a", "http://10.0.0.40:9000/alerts", criteria, deadline)


# -- times -------------------------------------------------------------------------------------
def test_timestamp_is_utc_with_z_and_a_fraction_only_when_there_is_one() -> None:
    assert timestamp(JUNE) == "2025-06-01T08:00:00Z"
    assert timestamp(JUNE + 0.25) == "2025-06-01T08:00:00.250000Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2025-06-01T08:00:00Z", JUNE),
        ("2025-06-01T10:00:00+02:00", JUNE),
        ("2025-06-01T07:30:00-00:30", JUNE),
        ("2025-06-01t08:00:00z", JUNE),
        ("2025-06-01 08:00:00Z", JUNE),
        ("2025-06-01T08:00:00.5Z", JUNE + 0.5),
    ],
)
def test_parse_time_reads_rfc3339_with_any_offset(text: str, seconds: float) -> None:
    assert parse_time(text, "since") == seconds


@pytest.mark.parametrize("seconds", [JUNE, JUNE + 0.125, 0.0, 4_102_444_799.999999])
def test_times_round_trip(seconds: float) -> None:
    assert parse_time(timestamp(seconds), "until") == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-01T08:00:00",  # no offset: which zone?
        "2025-06-01",
        "20250601T080000Z",
        "2025-13-01T08:00:00Z",
        "2025-06-01T08:00:00+25:00",
        "yesterday",
        "",
        1748764800,
        None,
    ],
)
def test_parse_time_refuses_what_is_not_rfc3339_naming_the_field(text: object) -> None:
    with pytest.raises(InvalidInput, match=r"^expiryDeadline: .*RFC 3339"):
        parse_time(text, "expiryDeadline")


# -- criteria ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "criteria",
    [
        ThresholdCriteria(above=30.0),
        ThresholdCriteria(below=-5.5),
        ThresholdCriteria("greenhouse-1", "temperature", 30.0, 5.0),
        ThresholdCriteria(quantity="humidity", above=90.0),
        ThresholdCriteria(sensor_id="dev:1.a_b", below=0.0),
    ],
)
def test_criteria_round_trip(criteria: ThresholdCriteria) -> None:
    assert criteria_from_wire(criteria_to_wire(criteria)) == criteria


def test_criteria_to_wire_leaves_absent_members_out_and_integers_become_floats() -> None:
    assert criteria_to_wire(ThresholdCriteria(above=30)) == {"above": 30}
    assert criteria_from_wire({"below": 5}).below == 5.0
    assert isinstance(criteria_from_wire({"below": 5}).below, float)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, r"^criteria: give above, below or both$"),
        ({"sensorId": "greenhouse-1"}, r"^criteria: give above, below or both$"),
        ({"above": None, "below": None}, r"^criteria: give above, below or both$"),
        ({"above": math.nan}, r"^criteria\.above: .*not a finite number"),
        ({"below": math.inf}, r"^criteria\.below: .*not a finite number"),
        ({"above": -math.inf}, r"^criteria\.above: "),
        ({"above": "30"}, r"^criteria\.above: "),
        ({"above": True}, r"^criteria\.above: "),
        ({"above": [30]}, r"^criteria\.above: "),
        ({"above": 1, "sensorId": "a/b"}, r"^criteria\.sensorId: "),
        ({"above": 1, "sensorId": "sensors/#"}, r"^criteria\.sensorId: "),
        ({"above": 1, "quantity": "+"}, r"^criteria\.quantity: "),
        ({"above": 1, "quantity": ""}, r"^criteria\.quantity: "),
        ({"above": 1, "quantity": 7}, r"^criteria\.quantity: "),
        ({"above": 1, "sensorId": "x" * 65}, r"^criteria\.sensorId: "),
        ({"above": 1, "serName": "x"}, r"^criteria\.serName: is not a member"),
        ([30], r"^criteria: must be an object$"),
        (None, r"^criteria: must be an object$"),
    ],
)
def test_bad_criteria_are_refused_naming_the_field(body: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        criteria_from_wire(body)


# -- subscriptions -----------------------------------------------------------------------------
def test_subscription_request_reads_callback_criteria_and_deadline() -> None:
    request = subscription_request_from_wire(
        {
            "callbackReference": "https://app.example/alerts",
            "criteria": {"sensorId": "greenhouse-1", "above": 30},
            "expiryDeadline": "2025-06-01T09:00:00Z",
        }
    )
    assert request.callback_reference == "https://app.example/alerts"
    assert request.criteria == ThresholdCriteria(sensor_id="greenhouse-1", above=30.0)
    assert request.expiry_deadline == JUNE + 3600


@pytest.mark.parametrize("deadline", [None, JUNE + 3600, JUNE + 0.5])
def test_subscription_round_trips_through_its_own_document(deadline: float | None) -> None:
    stored = subscription(ThresholdCriteria("greenhouse-1", "temperature", 30.0, 5.0), deadline)
    body = subscription_to_wire(stored, URLS)
    request = subscription_request_from_wire(body)  # subscriptionId and _links are ignored
    assert (request.callback_reference, request.criteria, request.expiry_deadline) == (
        stored.callback_reference,
        stored.criteria,
        deadline,
    )


def test_subscription_document() -> None:
    body = subscription_to_wire(subscription(ThresholdCriteria(below=5.0), JUNE), URLS)
    assert body == {
        "subscriptionId": "sub-1",
        "callbackReference": "http://10.0.0.40:9000/alerts",
        "criteria": {"below": 5.0},
        "expiryDeadline": "2025-06-01T08:00:00Z",
        "_links": {"self": {"href": "https://mec.example/sensors/v1/subscriptions/sub-1"}},
    }
    endless = subscription(ThresholdCriteria(above=1.0))
    assert "expiryDeadline" not in subscription_to_wire(endless, URLS)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"criteria": {"above": 1}}, r"^callbackReference: "),
        ({"callbackReference": 7, "criteria": {"above": 1}}, r"^callbackReference: "),
        ({"callbackReference": "ftp://h/x", "criteria": {"above": 1}}, r"^callbackReference: "),
        ({"callbackReference": "/alerts", "criteria": {"above": 1}}, r"^callbackReference: "),
        ({"callbackReference": "http://h/x"}, r"^criteria: must be an object"),
        ({"callbackReference": "http://h/x", "criteria": {}}, r"^criteria: give above"),
        (
            {"callbackReference": "http://h/x", "criteria": {"above": 1}, "expiryDeadline": "soon"},
            r"^expiryDeadline: ",
        ),
        ("[]", r"^body: "),
    ],
)
def test_bad_subscription_requests_are_refused_naming_the_field(body: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        subscription_request_from_wire(body)


# -- streams, readings, notifications ----------------------------------------------------------
def test_sensor_document_with_every_member() -> None:
    assert sensor_to_wire(stream(), URLS) == {
        "sensorId": "greenhouse-1",
        "quantity": "temperature",
        "unit": "Cel",
        "value": 21.5,
        "time": "2025-06-01T08:00:30Z",
        "state": "ACTIVE",
        "serInstanceId": "svc-1",
        "topic": "sensors/greenhouse-1/temperature",
        "silenceInterval": 60,
        "firstSeen": "2025-06-01T07:00:00Z",
        "lastSeen": "2025-06-01T08:00:31Z",
        "_links": {
            "self": {"href": "https://mec.example/sensors/v1/sensors/greenhouse-1/temperature"},
            "readings": {
                "href": "https://mec.example/sensors/v1/sensors/greenhouse-1/temperature/readings"
            },
        },
    }


def test_sensor_document_leaves_out_what_is_not_known_yet() -> None:
    body = sensor_to_wire(
        stream(unit=None, value=None, time=None, ser_instance_id=None, state=SensorState.SUSPENDED),
        URLS,
    )
    assert not {"unit", "value", "time", "serInstanceId"} & set(body)
    assert body["state"] == "SUSPENDED"


def test_a_value_of_zero_is_still_shown() -> None:
    assert sensor_to_wire(stream(value=0.0), URLS)["value"] == 0.0


def test_reading_document() -> None:
    assert reading_to_wire(Reading("temperature", 21.5, "Cel", JUNE)) == {
        "value": 21.5,
        "unit": "Cel",
        "time": "2025-06-01T08:00:00Z",
    }
    assert reading_to_wire(Reading("count", 3.0, None, JUNE)) == {
        "value": 3.0,
        "time": "2025-06-01T08:00:00Z",
    }


def test_state_query_parameter() -> None:
    assert state_from_wire(None) is None
    assert state_from_wire("SUSPENDED") is SensorState.SUSPENDED
    with pytest.raises(InvalidInput, match=r"^state: 'asleep' is not one of ACTIVE, SUSPENDED"):
        state_from_wire("asleep")


def test_threshold_notification() -> None:
    criteria = ThresholdCriteria("greenhouse-1", "temperature", 30.0, None)
    body = threshold_notification(
        subscription(criteria), stream(), Reading("temperature", 30.4, "Cel", JUNE + 60), URLS
    )
    assert body == {
        "notificationType": "SensorThresholdNotification",
        "subscriptionId": "sub-1",
        "sensorId": "greenhouse-1",
        "quantity": "temperature",
        "value": 30.4,
        "unit": "Cel",
        "time": "2025-06-01T08:01:00Z",
        "criteria": {"sensorId": "greenhouse-1", "quantity": "temperature", "above": 30.0},
        "_links": {
            "subscription": {"href": "https://mec.example/sensors/v1/subscriptions/sub-1"},
            "sensor": {"href": "https://mec.example/sensors/v1/sensors/greenhouse-1/temperature"},
        },
    }


def test_notification_unit_falls_back_to_the_stream_and_is_left_out_when_unknown() -> None:
    sub = subscription(ThresholdCriteria(above=1.0))
    reading = Reading("temperature", 2.0, None, JUNE)
    assert threshold_notification(sub, stream(), reading, URLS)["unit"] == "Cel"
    assert "unit" not in threshold_notification(sub, stream(unit=None), reading, URLS)


# -- MQTT configuration, exports, URLs ---------------------------------------------------------
def test_mqtt_configuration_shows_the_password_only_when_issued() -> None:
    issued = MqttConfiguration(
        "192.168.1.20", 1883, "app-1", "s3cret", ("sensors/+/temperature",), ("apps/app-1/#",)
    )
    body = mqtt_configuration_to_wire(issued)
    assert body == {
        "host": "192.168.1.20",
        "port": 1883,
        "protocol": "MQTT",
        "version": "3.1.1",
        "username": "app-1",
        "password": "s3cret",
        "readTopics": ["sensors/+/temperature"],
        "readWriteTopics": ["apps/app-1/#"],
    }
    shown = MqttConfiguration("192.168.1.20", 1883, "app-1", None, (), ("apps/app-1/#",))
    assert "password" not in mqtt_configuration_to_wire(shown)
    assert mqtt_configuration_to_wire(shown)["readTopics"] == []


def test_export_status_document() -> None:
    status = ExportStatus(
        name="upstream",
        upstream="mqtts://broker.example:8883",
        topics=("sensors/#",),
        backlog=12,
        oldest_queued_at=JUNE,
        delivered=1000,
        connected=False,
        last_error="connection refused",
        updated_at=JUNE + 1,
    )
    assert export_status_to_wire(status) == {
        "name": "upstream",
        "upstream": "mqtts://broker.example:8883",
        "topics": ["sensors/#"],
        "backlog": 12,
        "oldestQueuedAt": "2025-06-01T08:00:00Z",
        "delivered": 1000,
        "connected": False,
        "lastError": "connection refused",
        "updatedAt": "2025-06-01T08:00:01Z",
    }
    idle = ExportStatus("upstream", "mqtt://b:1883", ("sensors/#",), 0, None, 0, True, None, None)
    assert set(export_status_to_wire(idle)) == {
        "name",
        "upstream",
        "topics",
        "backlog",
        "delivered",
        "connected",
    }


def test_urls_quote_ids_and_ignore_a_trailing_slash_of_the_root() -> None:
    assert URLS.root == "https://mec.example/sensors/v1"
    assert URLS.sensor("dev 1", "a/b") == "https://mec.example/sensors/v1/sensors/dev%201/a%2Fb"
    assert URLS.readings("s", "q") == "https://mec.example/sensors/v1/sensors/s/q/readings"
    assert URLS.mqtt_configuration("app-1") == (
        "https://mec.example/sensors/v1/applications/app-1/mqtt_configuration"
    )
