"""Handlers of the platform's Users API (`/users/v1`): people, keys, credentials, audit."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.platform_users import audit, credentials, users

SPEC_FILE = "platform_users.yaml"
BASE_PATH = "/users/v1"
HANDLER_MODULES: tuple[ModuleType, ...] = (users, credentials, audit)
