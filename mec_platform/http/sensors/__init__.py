"""Handlers of the platform sensors API (`/sensors/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.sensors import app_mqtt, exports, sensors, subscriptions

SPEC_FILE = "platform_sensors.yaml"
BASE_PATH = "/sensors/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (sensors, subscriptions, exports, app_mqtt)
