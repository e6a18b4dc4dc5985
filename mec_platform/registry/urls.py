"""The one place resource URIs of the Service Management API are built (links, Location)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

SERVICE_MGMT_BASE = "/mec_service_mgmt/v1"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class ResourceUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str
    base_path: str = SERVICE_MGMT_BASE

    @property
    def root(self) -> str:
        """The Service Management API root, e.g. http://host:8080/mec_service_mgmt/v1."""
        return f"{self.api_root.rstrip('/')}{self.base_path}"

    def service(self, app_instance_id: str, ser_instance_id: str) -> str:
        """Canonical URI of a service: the resource its producer created."""
        return f"{self.root}/applications/{_seg(app_instance_id)}/services/{_seg(ser_instance_id)}"

    def discovered_service(self, ser_instance_id: str) -> str:
        """URI any application may read the service at."""
        return f"{self.root}/services/{_seg(ser_instance_id)}"

    def liveness(self, app_instance_id: str, ser_instance_id: str) -> str:
        """The platform-allocated liveness resource of a service."""
        return f"{self.service(app_instance_id, ser_instance_id)}/liveness"

    def subscriptions(self, app_instance_id: str) -> str:
        """The subscription collection of an application instance."""
        return f"{self.root}/applications/{_seg(app_instance_id)}/subscriptions"

    def subscription(self, app_instance_id: str, subscription_id: str) -> str:
        """One subscription of an application instance."""
        return f"{self.subscriptions(app_instance_id)}/{_seg(subscription_id)}"
