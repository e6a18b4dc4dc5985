"""Handlers of the MEC 011 Service Management API (`/mec_service_mgmt/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.service_mgmt import liveness, services, subscriptions, transports

SPEC_FILE = "mec011_service_mgmt.yaml"
BASE_PATH = "/mec_service_mgmt/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (services, transports, subscriptions, liveness)
