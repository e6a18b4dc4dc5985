"""Application registration handlers (MEC 011 clauses 7.2.13 and 7.2.14)."""

from __future__ import annotations

from typing import Any

from mec_platform.appsupport.service import AppSupport
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import app_info_from_wire, app_info_to_wire
from mec_platform.http.responses import RawResponse, Response, no_content, ok


def registrations_post(
    body: dict[str, Any], *, apps: AppSupport, app_urls: AppSupportUrls
) -> Response:
    """POST /registrations: register an application instance."""
    app = apps.register(app_info_from_wire(body), body.get("appInstanceId"))
    location = app_urls.registration(app.app_instance_id)
    return ok(app_info_to_wire(app), 201, Location=location)


def registrations_get_appinstanceid(app_instance_id: str, *, apps: AppSupport) -> Response:
    """GET /registrations/{appInstanceId}: the registration as AppInfo."""
    return ok(app_info_to_wire(apps.registration(app_instance_id)))


def registrations_put_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, apps: AppSupport
) -> RawResponse:
    """PUT /registrations/{appInstanceId}: replace the registration."""
    apps.update_registration(app_instance_id, app_info_from_wire(body), body.get("appInstanceId"))
    return no_content()


def registrations_delete_appinstanceid(app_instance_id: str, *, apps: AppSupport) -> RawResponse:
    """DELETE /registrations/{appInstanceId}: deregister; services and subscriptions go."""
    apps.deregister(app_instance_id)
    return no_content()
