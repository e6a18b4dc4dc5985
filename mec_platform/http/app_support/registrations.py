"""Application registration handlers (MEC 011 clauses 7.2.13 and 7.2.14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.appsupport.service import AppSupport
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import app_info_from_wire, app_info_to_wire
from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.registry.model import Actor


def registrations_post(
    body: dict[str, Any],
    *,
    apps: AppSupport,
    app_urls: AppSupportUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /registrations: register an application instance.

    A new instance's client credentials are shown once, in the response headers.
    """
    new = apps.register(app_info_from_wire(body), body.get("appInstanceId"), caller())
    headers = {"Location": app_urls.registration(new.app.app_instance_id)}
    if new.credentials is not None:
        headers[CLIENT_ID_HEADER] = new.credentials.client_id
        headers[CLIENT_SECRET_HEADER] = new.credentials.client_secret
    return ok(app_info_to_wire(new.app), 201, **headers)


CLIENT_ID_HEADER = "MEC-Client-Id"
CLIENT_SECRET_HEADER = "MEC-Client-Secret"


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
