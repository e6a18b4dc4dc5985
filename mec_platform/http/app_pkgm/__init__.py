"""Handlers of the MEC 010-2 application package management API (`/app_pkgm/v1`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.app_pkgm import packages, subscriptions

SPEC_FILE = "mec010_2_app_pkgm.yaml"
BASE_PATH = "/app_pkgm/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (packages, subscriptions)
