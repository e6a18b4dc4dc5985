"""Handlers of the MEC 010-2 application lifecycle management API (`/app_lcm/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.app_lcm import instances, op_occs, subscriptions

SPEC_FILE = "mec010_2_app_lcm.yaml"
BASE_PATH = "/app_lcm/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (instances, op_occs, subscriptions)
