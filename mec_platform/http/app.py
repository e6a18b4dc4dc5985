"""The connexion application factory: our specs routed to hand-written handlers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import flask
import yaml
from connexion import FlaskApp
from connexion.jsonifier import Jsonifier
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException

from mec_platform import errors
from mec_platform.auth.audit_file import read_audit
from mec_platform.bootstrap import Platform
from mec_platform.config import Settings
from mec_platform.http import (
    app_lcm,
    app_pkgm,
    app_support,
    iot,
    oauth2,
    platform_users,
    problems,
    sensors,
    service_mgmt,
)
from mec_platform.http.allowed import AllowedMethods
from mec_platform.http.authorization import PolicyEnforcement
from mec_platform.http.guards import ControlCharacterGuard
from mec_platform.http.headers import SecurityHeaders
from mec_platform.http.metrics import CONTENT_TYPE, RequestMetricsMiddleware, exposition
from mec_platform.http.resolver import HandlerResolver
from mec_platform.http.security import bearer_handler, calling_actor
from mec_platform.http.sensors.owners import calling_subscriber
from mec_platform.http.service_mgmt.discovery import DiscoveryCache, DiscoveryFastPath
from mec_platform.http.validation import validator_map
from mec_platform.iot.urls import IotUrls
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.packages.urls import PackageUrls
from mec_platform.sensors.urls import SensorUrls

log = logging.getLogger("mec_platform.http")

Api = tuple[str, str, str, tuple[ModuleType, ...]]
"""(title, base path, spec file, handler modules) of one served API."""

APIS: tuple[Api, ...] = (
    (
        "MEC 011 Service Management",
        service_mgmt.BASE_PATH,
        service_mgmt.SPEC_FILE,
        service_mgmt.HANDLER_MODULES,
    ),
    *(
        (
            f"MEC 011 Application Support ({base_path.rsplit('/', 1)[-1]})",
            base_path,
            app_support.SPEC_FILE,
            app_support.HANDLER_MODULES,
        )
        for base_path in app_support.BASE_PATHS
    ),
    ("Users", platform_users.BASE_PATH, platform_users.SPEC_FILE, platform_users.HANDLER_MODULES),
    ("OAuth 2.0 tokens", oauth2.BASE_PATH, oauth2.SPEC_FILE, oauth2.HANDLER_MODULES),
    (
        "MEC 010-2 Application Package Management",
        app_pkgm.BASE_PATH,
        app_pkgm.SPEC_FILE,
        app_pkgm.HANDLER_MODULES,
    ),
    (
        "MEC 010-2 Application Lifecycle Management",
        app_lcm.BASE_PATH,
        app_lcm.SPEC_FILE,
        app_lcm.HANDLER_MODULES,
    ),
    ("Sensors", sensors.BASE_PATH, sensors.SPEC_FILE, sensors.HANDLER_MODULES),
    ("MEC 033 IoT", iot.BASE_PATH, iot.SPEC_FILE, iot.HANDLER_MODULES),
)


# Without authentication there is nobody to sign in: these APIs are not served at all, so an
# auth-less box cannot be given users (nor maintenance keys) over the network.
IDENTITY_SPECS = frozenset({platform_users.SPEC_FILE, oauth2.SPEC_FILE})
# Without a container runtime (MEC_LIFECYCLE=false, or no Podman) nothing could run an app.
LIFECYCLE_SPECS = frozenset({app_pkgm.SPEC_FILE, app_lcm.SPEC_FILE})


def served_apis(settings: Settings) -> tuple[Api, ...]:
    """(title, base path, spec file, handler modules) of every API this server offers."""
    hidden = (frozenset() if settings.auth_enabled else IDENTITY_SPECS) | (
        frozenset() if settings.lifecycle_enabled else LIFECYCLE_SPECS
    )
    return tuple(api for api in APIS if api[2] not in hidden)


def _landing_page(apis: tuple[Api, ...]) -> str:
    rows = "".join(
        f"<li><b>{escape(title)}</b> <code>{escape(base)}</code> — "
        f'<a href="{base}/ui/">Swagger UI</a> · <a href="{base}/openapi.json">OpenAPI</a></li>'
        for title, base, _spec, _modules in apis
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>µMEC platform</title></head>"
        "<body><h1>µMEC platform</h1><p>ETSI MEC APIs served by this box:</p>"
        f"<ul>{rows}</ul><p><a href='/healthz'>healthz</a> · <a href='/readyz'>readyz</a> · "
        "<a href='/metrics'>metrics</a></p></body></html>"
    )


def _add_operational_routes(app: FlaskApp, platform: Platform) -> None:
    render_metrics = exposition(platform.uows)
    page = _landing_page(served_apis(platform.settings))

    def landing() -> flask.Response:
        return flask.Response(page, mimetype="text/html")

    def healthz() -> flask.Response:
        return flask.Response(json.dumps({"status": "ok"}), mimetype="application/json")

    def readyz() -> flask.Response:
        problem = platform.readiness_problem()
        if problem is None:
            return flask.Response(json.dumps({"status": "ready"}), mimetype="application/json")
        body = problems.problem_body(503, "Not ready", problem)
        return flask.Response(json.dumps(body), 503, mimetype=problems.PROBLEM_JSON)

    def metrics() -> flask.Response:
        return flask.Response(render_metrics(), mimetype=CONTENT_TYPE)

    app.add_url_rule("/", "landing", landing)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics)


def _dependencies(platform: Platform, discovery: DiscoveryCache) -> dict[str, Any]:
    auth = platform.auth
    return {
        "registry": platform.registry,
        "urls": platform.urls,
        "discovery": discovery,
        "apps": platform.apps,
        "rules": platform.rules,
        "termination_subscriptions": platform.termination_subscriptions,
        "timing": platform.timing,
        "caller": calling_actor,
        "users": auth.users,
        "credentials": auth.credentials,
        "authenticator": auth.authenticator,
        "jwks": auth.keys.jwks,
        "audit_reader": audit_reader(platform.settings.audit_log),
        "packages": platform.packages,
        "package_urls": PackageUrls(platform.settings.api_root),
        "lifecycle": platform.lifecycle,
        "lcm_urls": LifecycleUrls(platform.settings.api_root),
        "sensors": platform.sensors,
        "app_mqtt": platform.app_mqtt,
        "export_status": platform.export_status,
        "sensor_urls": SensorUrls(platform.settings.api_root),
        "subscriber": calling_subscriber,
        "iot": platform.iot,
        "iot_urls": IotUrls(platform.settings.api_root),
    }


def _specification(platform: Platform, spec_file: str) -> str | dict[str, Any]:
    """The spec as connexion should serve it: as written, or without security when auth is off."""
    if platform.settings.auth_enabled:
        return spec_file
    document = yaml.safe_load((platform.settings.specs_dir / spec_file).read_text())
    document["security"] = []
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return cast(dict[str, Any], document)


def create_app(platform: Platform) -> FlaskApp:
    """Build the ASGI app serving every API of the platform."""
    settings = platform.settings
    if not settings.auth_enabled:
        log.warning(
            "authentication is off (MEC_AUTH=false): anyone may call every operation; "
            "the users and token APIs are not served"
        )
    app = FlaskApp(
        __name__,
        specification_dir=str(settings.specs_dir),
        jsonifier=Jsonifier(json, separators=(",", ":")),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True),
        security_map={"oauth2": bearer_handler(platform.auth.verifier, platform.auth.audit)},
    )
    discovery = DiscoveryCache(platform.registry, platform.urls)
    dependencies = _dependencies(platform, discovery)
    for _title, base_path, spec_file, modules in served_apis(settings):
        # Application Support links and Location headers name the version called (v1, v2).
        own_urls = (
            {"app_urls": replace(platform.app_urls, base_path=base_path)}
            if spec_file == app_support.SPEC_FILE
            else {}
        )
        app.add_api(
            _specification(platform, spec_file),
            base_path=base_path,
            resolver=HandlerResolver(modules, {**dependencies, **own_urls}),
            pythonic_params=True,
            # RFC 6749 clause 3.2: a token endpoint ignores parameters it does not know.
            strict_validation=spec_file != oauth2.SPEC_FILE,
            validator_map=validator_map(),
        )
    _add_error_handlers(app, platform)
    app.add_middleware(RequestMetricsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(ControlCharacterGuard, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(
        SecurityHeaders, position=MiddlewarePosition.BEFORE_EXCEPTION, tls=settings.tls
    )
    app.add_middleware(
        PolicyEnforcement,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        owner_of=platform.auth.owner_of(platform.uows),
        audit=platform.auth.audit,
    )
    app.add_middleware(
        DiscoveryFastPath, position=MiddlewarePosition.BEFORE_VALIDATION, cache=discovery
    )
    _add_operational_routes(app, platform)
    return app


def _add_error_handlers(app: FlaskApp, platform: Platform) -> None:
    app.add_error_handler(errors.PlatformError, problems.platform_error)
    allowed = AllowedMethods(
        (base_path, platform.settings.specs_dir / spec_file)
        for _title, base_path, spec_file, _modules in served_apis(platform.settings)
    )
    app.add_error_handler(HTTPException, problems.http_error_handler(allowed.for_path))
    app.add_error_handler(UnicodeDecodeError, problems.undecodable_body)
    app.add_error_handler(Exception, problems.unexpected_error)


def audit_reader(path: Path) -> Callable[[int, str | None], list[dict[str, Any]]]:
    """Reads the latest audit records; `since` is RFC 3339 text."""

    def read(limit: int, since: str | None) -> list[dict[str, Any]]:
        moment = None
        if since:
            try:
                moment = datetime.fromisoformat(since)
            except ValueError:
                raise errors.InvalidInput(
                    f"since: '{since[:40]}' is not an RFC 3339 time"
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return read_audit(path, limit, moment)

    return read
