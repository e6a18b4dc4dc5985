"""The one place resource URIs of the IoT API are built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

IOT_BASE = "/iots/v1"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class IotUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str

    @property
    def root(self) -> str:
        """The IoT API root."""
        return f"{self.api_root.rstrip('/')}{IOT_BASE}"

    def device(self, device_id: str) -> str:
        """One registered device."""
        return f"{self.root}/registered_devices/{_seg(device_id)}"

    def platform(self, iot_platform_id: str) -> str:
        """One registered IoT platform."""
        return f"{self.root}/registered_iot_platforms/{_seg(iot_platform_id)}"
