"""Registered IoT platform handlers (ETSI GS MEC 033 clauses 5.3 and 5.4)."""

from __future__ import annotations

from typing import Any

from mec_platform.http.responses import RawResponse, Response, if_match, no_content, ok
from mec_platform.iot.service import IotRegistry
from mec_platform.iot.urls import IotUrls
from mec_platform.iot.wire import (
    PLATFORM_ATTRIBUTES,
    check_fields,
    platform_from_wire,
    platform_to_wire,
)


def registerediotplatforms_get(fields: list[str] | None = None, *, iot: IotRegistry) -> Response:
    """GET /registered_iot_platforms: the built-in platform and the registered ones."""
    check_fields(fields, PLATFORM_ATTRIBUTES, "IotPlatformInfo")
    return ok([platform_to_wire(platform) for platform in iot.platforms()])


def registerediotplatforms_post(
    body: dict[str, Any], *, iot: IotRegistry, iot_urls: IotUrls
) -> Response:
    """POST /registered_iot_platforms: register a new platform (409 when its id is taken)."""
    platform = iot.register_platform(platform_from_wire(body))
    location = iot_urls.platform(platform.iot_platform_id)
    return ok(platform_to_wire(platform), 201, Location=location, ETag=platform.etag)


def registerediotplatforms_by_id_get(
    registered_iot_platform_id: str, fields: list[str] | None = None, *, iot: IotRegistry
) -> Response:
    """GET /registered_iot_platforms/{registeredIotPlatformId}."""
    check_fields(fields, PLATFORM_ATTRIBUTES, "IotPlatformInfo")
    platform = iot.platform(registered_iot_platform_id)
    return ok(platform_to_wire(platform), ETag=platform.etag)


def registerediotplatforms_by_id_put(
    registered_iot_platform_id: str, body: dict[str, Any], *, iot: IotRegistry
) -> Response:
    """PUT /registered_iot_platforms/{registeredIotPlatformId}: replace, honouring If-Match."""
    platform = iot.update_platform(registered_iot_platform_id, platform_from_wire(body), if_match())
    return ok(platform_to_wire(platform), ETag=platform.etag)


def registerediotplatforms_by_id_delete(
    registered_iot_platform_id: str, *, iot: IotRegistry
) -> RawResponse:
    """DELETE /registered_iot_platforms/{registeredIotPlatformId}: never the built-in one."""
    iot.deregister_platform(registered_iot_platform_id)
    return no_content()
