"""The one place resource URIs of the app lifecycle API are built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

APP_LCM_BASE = "/app_lcm/v1"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class LifecycleUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str

    @property
    def root(self) -> str:
        """The lifecycle API root."""
        return f"{self.api_root.rstrip('/')}{APP_LCM_BASE}"

    def instance(self, app_instance_id: str) -> str:
        """One app instance."""
        return f"{self.root}/app_instances/{_seg(app_instance_id)}"

    def instance_task(self, app_instance_id: str, task: str) -> str:
        """instantiate, terminate, operate or configure_platform_for_app of an instance."""
        return f"{self.instance(app_instance_id)}/{task}"

    def op_occ(self, op_occ_id: str) -> str:
        """One operation occurrence."""
        return f"{self.root}/app_lcm_op_occs/{_seg(op_occ_id)}"

    def subscription(self, subscription_id: str) -> str:
        """One LCM subscription."""
        return f"{self.root}/subscriptions/{_seg(subscription_id)}"
