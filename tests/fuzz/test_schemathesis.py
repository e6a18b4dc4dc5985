"""Fuzz the MEC 011 Service Management API of a real server with schemathesis.

The platform runs under gunicorn on SQLite. For every operation of our spec schemathesis sends,
over HTTP, the spec's examples, its coverage cases (boundary and invalid values of each parameter
and body field, undeclared methods) and `MAX_EXAMPLES` seeded random cases, valid and invalid.
Each answer must be documented (status code, content type, headers, body schema, so errors are
ProblemDetails), nothing may be a 5xx and invalid input must get a 4xx. Every request carries
a platform admin's bearer token. Path ids are steered to live app instances, services and
subscriptions most of the time so that the happy paths run as well as the 404s. A second test
follows links between the operations (register, read, update, deregister; subscribe, read,
unsubscribe) on the spec the server publishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.core.parameters import ParameterLocation

from tests.fuzz.support import (
    CHECKS,
    STATEFUL_CHECKS,
    CallLog,
    add_links,
    choose,
    config,
    fuzz_admin,
    id_from_location,
    link,
    run_link_chains,
    valid_part,
    validate,
)
from tests.support.processes import REPO, PlatformProcess, add_app, platform_env

pytestmark = pytest.mark.e2e

SPEC = REPO / "specs" / "mec011_service_mgmt.yaml"
SERVICES_PER_APP = 8
SUBSCRIPTIONS_PER_APP = 6

OWN_TRANSPORT: dict[str, Any] = {
    "id": "own",
    "name": "own-http",
    "type": "REST_HTTP",
    "protocol": "HTTP",
    "version": "1.1",
    "endpoint": {"uris": ["http://127.0.0.1:9/fuzz"]},
    "security": {},
}
ENDPOINT_KINDS = ("uris", "fqdn", "addresses", "alternative")
EXCLUSIVE_FILTERS = ("serInstanceIds", "serNames", "serCategories")


@dataclass
class LiveIds:
    """Ids that exist on the server, kept current from the responses schemathesis receives."""

    services: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    log: CallLog = field(default_factory=CallLog)

    def steer(self, case: Case[Any], resources: bool = True) -> None:
        """Point path ids at live apps (and resources) unless the path is the invalid part."""
        if not valid_part(case, ParameterLocation.PATH):
            return
        params = dict(case.path_parameters)
        app = params.get("appInstanceId")
        if app is not None and app not in self.services:
            app = params["appInstanceId"] = choose(app, list(self.services)) or app
        for name, pool in (("serviceId", self.services), ("subscriptionId", self.subscriptions)):
            value = params.get(name) if resources else None
            options = pool.get(app, []) if app else [i for ids in pool.values() for i in ids]
            if value is not None and value not in options:
                params[name] = choose(value, options) or value
        if params != case.path_parameters:
            case.path_parameters = params

    def record(self, case: Case[Any], response: Response) -> None:
        """Count the call and track the resources it created or deleted."""
        self.log.count(case, response)
        app = case.path_parameters.get("appInstanceId")
        pool = self.subscriptions if "/subscriptions" in case.path else self.services
        if app not in pool:
            return
        if response.status_code == 201 and (new_id := id_from_location(response)):
            pool[app].append(new_id)
        if case.method.upper() == "DELETE" and response.status_code == 204:
            params = case.path_parameters
            gone = params.get("subscriptionId") or params.get("serviceId")
            if gone in pool[app]:
                pool[app].remove(gone)


def _acceptable(case: Case[Any]) -> None:
    """Bring a valid body within the rules the schema cannot state, so that link chains go on."""
    if not isinstance(case.body, dict):
        return
    body = dict(case.body)
    if case.path.endswith("/subscriptions"):
        body.pop("expiryDeadline", None)
        if isinstance(criteria := body.get("filteringCriteria"), dict):
            extra = [name for name in EXCLUSIVE_FILTERS if name in criteria][1:]
            body["filteringCriteria"] = {k: v for k, v in criteria.items() if k not in extra}
    elif "/services" in case.path and not case.path.endswith("/liveness"):
        body.pop("transportId", None)
        given = body.get("transportInfo")
        transport = dict(given) if isinstance(given, dict) else dict(OWN_TRANSPORT)
        endpoint = transport.get("endpoint")
        if not isinstance(endpoint, dict) or sum(k in endpoint for k in ENDPOINT_KINDS) != 1:
            transport["endpoint"] = OWN_TRANSPORT["endpoint"]
        body["transportInfo"] = transport
    if body != case.body:
        case.body = body


def _service(name: str, heartbeat: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serName": name,
        "version": "1.0.0",
        "state": "ACTIVE",
        "serializer": "JSON",
        "serCategory": {"href": "http://cat.test/c", "id": "fuzz", "name": "Fuzz", "version": "1"},
        "transportInfo": OWN_TRANSPORT,
    }
    if heartbeat:
        body["livenessInterval"] = 0
    return body


def _seed(client: httpx.Client, app: str) -> tuple[list[str], list[str]]:
    """Register services (half of them with heartbeats) and subscriptions for one app."""
    services = []
    for n in range(SERVICES_PER_APP):
        body = _service(f"fuzz-{n}", heartbeat=n % 2 == 0)
        response = client.post(f"/applications/{app}/services", json=body)
        assert response.status_code == 201, response.text
        services.append(response.json()["serInstanceId"])
    subscriptions = []
    for _ in range(SUBSCRIPTIONS_PER_APP):
        body = {
            "subscriptionType": "SerAvailabilityNotificationSubscription",
            "callbackReference": "http://127.0.0.1:9/callback",
        }
        response = client.post(f"/applications/{app}/subscriptions", json=body)
        assert response.status_code == 201, response.text
        subscriptions.append(response.headers["Location"].rsplit("/", 1)[-1])
    return services, subscriptions


# The server, what lives on it, and the admin's `Authorization` header.
Platform = tuple[PlatformProcess, LiveIds, dict[str, str]]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real server on a fresh SQLite database, with two app instances and their resources."""
    env = platform_env(tmp_path_factory.mktemp("fuzz"))
    server = PlatformProcess(env).start()
    try:
        ids = LiveIds()
        auth = fuzz_admin(env)
        with httpx.Client(base_url=server.api, timeout=10, headers=auth) as client:
            for name in ("fuzz-producer", "fuzz-consumer"):
                app = add_app(env, name)
                ids.services[app], ids.subscriptions[app] = _seed(client, app)
        yield server, ids, auth
        print(f"\nschemathesis traffic against {server.api}: {ids.log.summary()}")
    finally:
        server.stop()


# Loaded from the file at import time: pytest needs the operations to collect one test each, and
# the lazy `schemathesis.pytest.from_fixture` loader breaks on pytest 9.2 (`Node._nodeid` is gone).
schema = schemathesis.openapi.from_path(SPEC, config=config(CHECKS))


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case[Any], platform: Platform) -> None:
    server, ids, auth = platform
    ids.steer(case)
    response = case.call(base_url=server.api, headers=auth)
    ids.record(case, response)
    validate(case, response)


def _with_links(raw: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links between the operations, added on the test side (the spec declares none).

    None into the liveness resource: it exists only for services that send heartbeats, and
    `ensure_resource_availability` would take its documented 404 for a lost resource.
    """
    app = {"appInstanceId": "$request.path.appInstanceId"}
    created = {**app, "serviceId": "$response.body#/serInstanceId"}
    same = {**app, "serviceId": "$request.path.serviceId"}
    subscribed = {**app, "subscriptionId": "$response.header.Location#regex:/([^/]+)$"}
    same_subscription = {**app, "subscriptionId": "$request.path.subscriptionId"}
    read = "ApplicationsServicesGETAppinstanceidServiceid"
    update = "ApplicationsServicesPUTAppinstanceidServiceid"
    deregister = "ApplicationsServicesDELETEAppinstanceidServiceid"
    read_subscription = "ApplicationsSubscriptionsGETAppinstanceidSubscriptionid"
    unsubscribe = "ApplicationsSubscriptionsDELETEAppinstanceidSubscriptionid"
    etag = {"header.If-Match": "$response.header.ETag"}
    links = {
        ("/applications/{appInstanceId}/services", "post", "201"): {
            "Read": link(read, created),
            "Discover": link("ServicesGETServiceid", {"serviceId": created["serviceId"]}),
            "Update": link(update, {**created, **etag}, requestBody="$response.body"),
            "Deregister": link(deregister, created),
        },
        ("/applications/{appInstanceId}/services/{serviceId}", "put", "200"): {
            "Read": link(read, same),
            "Deregister": link(deregister, same),
        },
        ("/applications/{appInstanceId}/services/{serviceId}", "delete", "204"): {
            "Read": link(read, same),
        },
        ("/applications/{appInstanceId}/subscriptions", "post", "201"): {
            "Read": link(read_subscription, subscribed),
            "Unsubscribe": link(unsubscribe, subscribed),
        },
        ("/applications/{appInstanceId}/subscriptions/{subscriptionId}", "delete", "204"): {
            "Read": link(read_subscription, same_subscription),
        },
    }
    return add_links(raw, links)


def test_stateful_link_chains(platform: Platform) -> None:
    server, ids, auth = platform
    raw = httpx.get(f"{server.api}/openapi.json", timeout=10, headers=auth).json()
    served = schemathesis.openapi.from_dict(
        _with_links(raw),
        config=config(STATEFUL_CHECKS, base_url=server.api, stateful=True, headers=auth),
    )

    def before_call(case: Case[Any], linked: bool) -> None:
        # Only a chain's first call is steered: along a link, ids come from the link or are left
        # as generated (schemathesis explores), else `ensure_resource_availability` would take
        # a steered id for a linked one; steering resource ids to those other scenarios create
        # and delete would make a replayed scenario take a different path.
        if not linked:
            ids.steer(case, resources=False)
        _acceptable(case)

    scenarios = run_link_chains(served, before_call, ids.record)
    print(f"\nstateful scenarios run: {scenarios}")
