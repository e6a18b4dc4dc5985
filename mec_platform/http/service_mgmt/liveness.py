"""Service liveness handlers (tag `liveness`): the platform-allocated heartbeat resource."""

from __future__ import annotations

from typing import Any

from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.registry.model import ServiceState
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.wire import liveness_to_wire


def resourceuriallocatedbymecplatform_get(
    app_instance_id: str, service_id: str, *, registry: ServiceRegistry
) -> Response:
    """GET …/services/{serviceId}/liveness: last heartbeat and the interval."""
    return ok(liveness_to_wire(registry.liveness(app_instance_id, service_id)))


def resourceuriallocatedbymecplatform_patch(
    app_instance_id: str, service_id: str, body: dict[str, Any], *, registry: ServiceRegistry
) -> RawResponse:
    """PATCH …/services/{serviceId}/liveness: a heartbeat; 204 as the interval is unchanged."""
    registry.heartbeat(app_instance_id, service_id, ServiceState(body["state"]))
    return no_content()
