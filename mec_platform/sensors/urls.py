"""The one place resource URIs of the sensors API (`/sensors/v1`) are built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

SENSORS_BASE = "/sensors/v1"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class SensorUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str

    @property
    def root(self) -> str:
        """The sensors API root."""
        return f"{self.api_root.rstrip('/')}{SENSORS_BASE}"

    def sensor(self, sensor_id: str, quantity: str) -> str:
        """One sensor stream."""
        return f"{self.root}/sensors/{_seg(sensor_id)}/{_seg(quantity)}"

    def readings(self, sensor_id: str, quantity: str) -> str:
        """The history of one sensor stream."""
        return f"{self.sensor(sensor_id, quantity)}/readings"

    def subscription(self, subscription_id: str) -> str:
        """One threshold subscription."""
        return f"{self.root}/subscriptions/{_seg(subscription_id)}"

    def mqtt_configuration(self, app_instance_id: str) -> str:
        """The MQTT configuration of one application instance."""
        return f"{self.root}/applications/{_seg(app_instance_id)}/mqtt_configuration"
