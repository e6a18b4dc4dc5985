"""confirm_ready and confirm_termination handlers (MEC 011 clauses 7.2.11 and 7.2.12)."""

from __future__ import annotations

from typing import Any

from mec_platform.appsupport.model import OperationAction
from mec_platform.appsupport.service import AppSupport
from mec_platform.http.responses import RawResponse, no_content


def applications_confirmready_post_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, apps: AppSupport
) -> RawResponse:
    """POST /applications/{appInstanceId}/confirm_ready."""
    apps.confirm_ready(app_instance_id, body["indication"])
    return no_content()


def applications_confirmtermination_post_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, apps: AppSupport
) -> RawResponse:
    """POST /applications/{appInstanceId}/confirm_termination."""
    apps.confirm_termination(app_instance_id, OperationAction(body["operationAction"]))
    return no_content()
