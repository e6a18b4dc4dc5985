"""Users API handler replacing an application instance's client credentials."""

from __future__ import annotations

from mec_platform.auth.credentials import AppCredentials
from mec_platform.http.responses import Response, ok


def app_credentials_post(app_instance_id: str, *, credentials: AppCredentials) -> Response:
    """POST /app_instances/{appInstanceId}/credentials: a new secret, shown once."""
    issued = credentials.replace(app_instance_id)
    return ok({"clientId": issued.client_id, "clientSecret": issued.client_secret}, 201)
