"""Handlers of the MEC 033 IoT API (`/iots/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.iot import devices, platforms

SPEC_FILE = "mec033_iot.yaml"
BASE_PATH = "/iots/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (devices, platforms)
