"""Service registration and discovery handlers (tag `services`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mec_platform.http.responses import (
    RawResponse,
    Response,
    if_match,
    json_bytes,
    no_content,
    ok,
    raw_request,
)
from mec_platform.http.service_mgmt.discovery import DiscoveryCache
from mec_platform.registry.model import LocalityType, ServiceQuery
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import service_from_wire, service_to_wire


def _query(
    ser_instance_id: list[str] | None,
    ser_name: list[str] | None,
    ser_category_id: str | None,
    scope_of_locality: str | None,
    consumed_local_only: bool | None,
    is_local: bool | None,
) -> ServiceQuery:
    return ServiceQuery(
        ser_instance_ids=tuple(ser_instance_id or ()),
        ser_names=tuple(ser_name or ()),
        ser_category_id=ser_category_id,
        scope_of_locality=LocalityType(scope_of_locality) if scope_of_locality else None,
        consumed_local_only=consumed_local_only,
        is_local=is_local,
    )


def services_get(
    ser_instance_id: list[str] | None = None,
    ser_name: list[str] | None = None,
    ser_category_id: str | None = None,
    scope_of_locality: str | None = None,
    consumed_local_only: bool | None = None,
    is_local: bool | None = None,
    *,
    discovery: DiscoveryCache,
) -> RawResponse:
    """GET /services: discovery over every registered service."""
    query = _query(
        ser_instance_id, ser_name, ser_category_id, scope_of_locality, consumed_local_only, is_local
    )
    return json_bytes(discovery.answer(query, raw_request()))


def services_get_serviceid(
    service_id: str, *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """GET /services/{serviceId}."""
    service = registry.get_service(service_id)
    return ok(service_to_wire(service, urls), ETag=service.etag)


def applications_services_get_appinstanceid(
    app_instance_id: str,
    ser_instance_id: list[str] | None = None,
    ser_name: list[str] | None = None,
    ser_category_id: str | None = None,
    scope_of_locality: str | None = None,
    consumed_local_only: bool | None = None,
    is_local: bool | None = None,
    *,
    discovery: DiscoveryCache,
) -> RawResponse:
    """GET /applications/{appInstanceId}/services: the services one application produces."""
    query = _query(
        ser_instance_id, ser_name, ser_category_id, scope_of_locality, consumed_local_only, is_local
    )
    scoped = replace(query, app_instance_id=app_instance_id)
    return json_bytes(discovery.answer(scoped, raw_request()))


def applications_services_post_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """POST /applications/{appInstanceId}/services: register a service."""
    service = registry.register_service(app_instance_id, service_from_wire(body))
    location = urls.service(app_instance_id, service.ser_instance_id)
    return ok(service_to_wire(service, urls), 201, Location=location, ETag=service.etag)


def applications_services_get_appinstanceid_serviceid(
    app_instance_id: str, service_id: str, *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """GET /applications/{appInstanceId}/services/{serviceId}."""
    service = registry.get_app_service(app_instance_id, service_id)
    return ok(service_to_wire(service, urls), ETag=service.etag)


def applications_services_put_appinstanceid_serviceid(
    app_instance_id: str,
    service_id: str,
    body: dict[str, Any],
    *,
    registry: ServiceRegistry,
    urls: ResourceUrls,
) -> Response:
    """PUT /applications/{appInstanceId}/services/{serviceId}: update, honouring If-Match."""
    draft = service_from_wire(body)
    service = registry.update_service(app_instance_id, service_id, draft, if_match())
    return ok(service_to_wire(service, urls), ETag=service.etag)


def applications_services_delete_appinstanceid_serviceid(
    app_instance_id: str, service_id: str, *, registry: ServiceRegistry
) -> RawResponse:
    """DELETE /applications/{appInstanceId}/services/{serviceId}: deregister."""
    registry.deregister_service(app_instance_id, service_id)
    return no_content()
