"""Registered device handlers (ETSI GS MEC 033 clause 5.2): thin wire <-> IotRegistry."""

from __future__ import annotations

from typing import Any

from mec_platform.http.attribute_filter import apply_filter
from mec_platform.http.responses import RawResponse, Response, if_match, no_content, ok
from mec_platform.iot.service import IotRegistry
from mec_platform.iot.urls import IotUrls
from mec_platform.iot.wire import (
    DEVICE_ATTRIBUTES,
    boolean_filter,
    check_fields,
    device_from_wire,
    device_to_wire,
)


def registereddevices_get(
    filter_: str | None = None, fields: list[str] | None = None, *, iot: IotRegistry
) -> Response:
    """GET /registered_devices: every device, optionally filtered."""
    check_fields(fields, DEVICE_ATTRIBUTES, "DeviceInfo")
    found = [device_to_wire(device, enabled) for device, enabled in iot.devices()]
    return ok(apply_filter(found, boolean_filter(filter_)))


def registereddevices_post(
    body: dict[str, Any], *, iot: IotRegistry, iot_urls: IotUrls
) -> Response:
    """POST /registered_devices: register a new device (409 when its id is taken)."""
    device, enabled = iot.register_device(device_from_wire(body))
    location = iot_urls.device(device.device_id)
    return ok(device_to_wire(device, enabled), 201, Location=location, ETag=device.etag)


def registereddevices_by_id_get(registered_device_id: str, *, iot: IotRegistry) -> Response:
    """GET /registered_devices/{registeredDeviceId}."""
    device, enabled = iot.device(registered_device_id)
    return ok(device_to_wire(device, enabled), ETag=device.etag)


def registereddevices_by_id_put(
    registered_device_id: str, body: dict[str, Any], *, iot: IotRegistry
) -> Response:
    """PUT /registered_devices/{registeredDeviceId}: replace, honouring If-Match."""
    device, enabled = iot.update_device(registered_device_id, device_from_wire(body), if_match())
    return ok(device_to_wire(device, enabled), ETag=device.etag)


def registereddevices_by_id_delete(registered_device_id: str, *, iot: IotRegistry) -> RawResponse:
    """DELETE /registered_devices/{registeredDeviceId}."""
    iot.deregister_device(registered_device_id)
    return no_content()
