"""Handlers of the MEC 011 Application Support API (`/mec_app_support/v2`, also `/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.app_support import (
    dns_rules,
    readiness,
    registrations,
    subscriptions,
    timing,
    traffic_rules,
)

SPEC_FILE = "mec011_app_support.yaml"
# MEC 011 v3.x clients use API version 2; older clients still call v1 (same operations).
BASE_PATHS = ("/mec_app_support/v2", "/mec_app_support/v1")
HANDLER_MODULES: tuple[ModuleType, ...] = (
    registrations,
    readiness,
    subscriptions,
    dns_rules,
    traffic_rules,
    timing,
)
