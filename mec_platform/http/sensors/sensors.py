"""Sensor stream handlers: the streams, one stream, its history, forgetting it."""

from __future__ import annotations

from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.sensors.service import SensorCatalog
from mec_platform.sensors.urls import SensorUrls
from mec_platform.sensors.wire import (
    parse_time,
    reading_to_wire,
    sensor_to_wire,
    state_from_wire,
)

DEFAULT_LIMIT = 100


def sensors_get(
    sensor_id: str | None = None,
    quantity: str | None = None,
    state: str | None = None,
    *,
    sensors: SensorCatalog,
    sensor_urls: SensorUrls,
) -> Response:
    """GET /sensors: SensorInfo of every matching stream."""
    found = sensors.list_sensors(sensor_id, quantity, state_from_wire(state))
    return ok([sensor_to_wire(stream, sensor_urls) for stream in found])


def sensor_get(
    sensor_id: str, quantity: str, *, sensors: SensorCatalog, sensor_urls: SensorUrls
) -> Response:
    """GET /sensors/{sensorId}/{quantity}."""
    return ok(sensor_to_wire(sensors.get_sensor(sensor_id, quantity), sensor_urls))


def sensor_delete(sensor_id: str, quantity: str, *, sensors: SensorCatalog) -> RawResponse:
    """DELETE /sensors/{sensorId}/{quantity}: forget the stream."""
    sensors.forget_sensor(sensor_id, quantity)
    return no_content()


def sensor_readings_get(
    sensor_id: str,
    quantity: str,
    since: str | None = None,
    until: str | None = None,
    limit: int = DEFAULT_LIMIT,
    *,
    sensors: SensorCatalog,
) -> Response:
    """GET /sensors/{sensorId}/{quantity}/readings: newest first."""
    found = sensors.readings(
        sensor_id,
        quantity,
        None if since is None else parse_time(since, "since"),
        None if until is None else parse_time(until, "until"),
        limit,
    )
    return ok([reading_to_wire(reading) for reading in found])
