"""Handlers of the platform's OAuth 2.0 authorization server (`/oauth2`)."""

from __future__ import annotations

from types import ModuleType

from mec_platform.http.oauth2 import tokens

SPEC_FILE = "platform_oauth2.yaml"
BASE_PATH = "/oauth2"
HANDLER_MODULES: tuple[ModuleType, ...] = (tokens,)
