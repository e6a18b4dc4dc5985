"""App instance handlers (MEC 010-2 clause 7.4): identifiers and the operations on them.

instantiate/operate/terminate answer 202 with the new occurrence's URI; the lifecycle process
does the work. Ownership of `{appInstanceId}` is enforced by the policy middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.http.attribute_filter import apply_filter
from mec_platform.http.ownership import owner_of, visible
from mec_platform.http.responses import RawResponse, Response, accepted, no_content, ok
from mec_platform.lifecycle.service import Lifecycle
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.lifecycle.wire import instance_to_wire
from mec_platform.registry.model import Actor


def appinstances_get(
    filter_: str | None = None,
    all_fields: str | None = None,
    fields: str | None = None,
    exclude_fields: str | None = None,
    exclude_default: str | None = None,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /app_instances: the caller's instances, optionally filtered."""
    views = visible(caller(), lifecycle.instances(), lambda view: view[0].owner)
    found = [instance_to_wire(i, fields_, lcm_urls) for i, fields_ in views]
    return ok(apply_filter(found, filter_))


def appinstances_post(
    body: dict[str, Any],
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /app_instances: a new instance identifier (NOT_INSTANTIATED)."""
    instance, fields_ = lifecycle.create_instance(
        body["appDId"],
        body.get("appInstanceName"),
        body.get("appInstanceDescription"),
        owner_of(caller()),
    )
    location = lcm_urls.instance(instance.app_instance_id)
    return ok(instance_to_wire(instance, fields_, lcm_urls), 201, Location=location)


def appinstances_get_appinstanceid(
    app_instance_id: str, *, lifecycle: Lifecycle, lcm_urls: LifecycleUrls
) -> Response:
    """GET /app_instances/{appInstanceId}."""
    instance, fields_ = lifecycle.instance(app_instance_id)
    return ok(instance_to_wire(instance, fields_, lcm_urls))


def appinstances_delete_appinstanceid(app_instance_id: str, *, lifecycle: Lifecycle) -> RawResponse:
    """DELETE /app_instances/{appInstanceId}: only a NOT_INSTANTIATED identifier."""
    lifecycle.delete_instance(app_instance_id)
    return no_content()


def appinstances_instantiate_post_appinstanceid(
    app_instance_id: str,
    body: dict[str, Any],
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
) -> RawResponse:
    """POST /app_instances/{appInstanceId}/instantiate."""
    return accepted(lcm_urls.op_occ(lifecycle.instantiate(app_instance_id, body).op_occ_id))


def appinstances_operate_post_appinstanceid(
    app_instance_id: str,
    body: dict[str, Any],
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
) -> RawResponse:
    """POST /app_instances/{appInstanceId}/operate."""
    return accepted(lcm_urls.op_occ(lifecycle.operate(app_instance_id, body).op_occ_id))


def appinstances_terminate_post_appinstanceid(
    app_instance_id: str,
    body: dict[str, Any],
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
) -> RawResponse:
    """POST /app_instances/{appInstanceId}/terminate."""
    return accepted(lcm_urls.op_occ(lifecycle.terminate(app_instance_id, body).op_occ_id))


def appinstances_configureplatformforapp_post_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, lifecycle: Lifecycle
) -> RawResponse:
    """POST /app_instances/{appInstanceId}/configure_platform_for_app: rules take effect."""
    lifecycle.configure_platform(app_instance_id, body)
    return accepted()
