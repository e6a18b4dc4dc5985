"""Fuzz the MEC 011 Service Management API of a real server with schemathesis.

The platform runs under gunicorn on SQLite. For every operation of our spec schemathesis sends,
over HTTP, the spec's examples, its coverage cases (boundary and invalid values of each parameter
and body field, undeclared methods) and `MAX_EXAMPLES` seeded random cases, valid and invalid.
Each answer must be documented (status code, content type, headers, body schema, so errors are
ProblemDetails), nothing may be a 5xx and invalid input must get a 4xx. Path ids are steered to
live app instances, services and subscriptions most of the time so that the happy paths run as
well as the 404s. A second test follows links between the operations (register, read, update,
deregister; subscribe, read, unsubscribe) on the spec the server publishes.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import Case, GenerationMode, Response
from schemathesis.core.parameters import ParameterLocation
from schemathesis.errors import FailureGroup

from tests.support.processes import REPO, PlatformProcess, add_app, platform_env

pytestmark = pytest.mark.e2e

SPEC = REPO / "specs" / "mec011_service_mgmt.yaml"
SEED = 11_011
MAX_EXAMPLES = 50
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 8
SERVICES_PER_APP = 8
SUBSCRIPTIONS_PER_APP = 6

# `positive_data_acceptance` stays off: the API has cross-field rules the schema cannot state (one
# of transportId/transportInfo, exclusive filters, heartbeats only ACTIVE), so some schema-valid
# requests are rightly refused with 400.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
)
# Along links: a deleted resource must be gone, a created one must be there.
STATEFUL_CHECKS = (*CHECKS, "use_after_free", "ensure_resource_availability")

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


def _config(
    checks: tuple[str, ...], base_url: str | None = None, stateful: bool = False
) -> schemathesis.Config:
    """Seeded valid and invalid data, only `checks`, no shrinking, exact curl lines."""
    project: dict[str, Any] = {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "request-timeout": 10,
        "output": {"sanitization": {"enabled": False}},
        # Shrinking replays cases against a server whose state has moved on: flaky, not smaller.
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "database": "none",
            "no-shrink": True,
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
    }
    if base_url:
        project["base-url"] = base_url
    if stateful:
        # Only the links `_add_links` declares, and valid data: invalid data is fuzzed per request.
        project["phases"] = {
            "stateful": {"inference": {"algorithms": []}, "generation": {"mode": "positive"}}
        }
    return schemathesis.Config.from_dict(project)


def _choose(value: object, options: list[str]) -> str | None:
    """Deterministically keep one generated value in four and map the others onto `options`."""
    digest = zlib.crc32(repr(value).encode())
    if not options or digest % 4 == 0:
        return None
    return options[(digest // 4) % len(options)]


def _id_from_location(response: Response) -> str | None:
    location = response.headers.get("location")
    return location[0].rstrip("/").rsplit("/", 1)[-1] if location else None


@dataclass
class LiveIds:
    """Ids that exist on the server, kept current from the responses schemathesis receives."""

    services: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    calls: Counter[tuple[str, int]] = field(default_factory=Counter)

    def steer(self, case: Case[Any], resources: bool = True) -> None:
        """Point path ids at live apps (and resources) unless the path is the invalid part."""
        meta = case.meta
        path = meta.components.get(ParameterLocation.PATH) if meta else None
        if path is None or path.mode is GenerationMode.NEGATIVE:
            return
        params = dict(case.path_parameters)
        app = params.get("appInstanceId")
        if app is not None and app not in self.services:
            app = params["appInstanceId"] = _choose(app, list(self.services)) or app
        for name, pool in (("serviceId", self.services), ("subscriptionId", self.subscriptions)):
            value = params.get(name) if resources else None
            options = pool.get(app, []) if app else [i for ids in pool.values() for i in ids]
            if value is not None and value not in options:
                params[name] = _choose(value, options) or value
        if params != case.path_parameters:
            case.path_parameters = params

    def record(self, case: Case[Any], response: Response) -> None:
        """Count the call and track the resources it created or deleted."""
        self.calls[(f"{case.method.upper()} {case.path}", response.status_code)] += 1
        app = case.path_parameters.get("appInstanceId")
        pool = self.subscriptions if "/subscriptions" in case.path else self.services
        if app not in pool:
            return
        if response.status_code == 201 and (new_id := _id_from_location(response)):
            pool[app].append(new_id)
        if case.method.upper() == "DELETE" and response.status_code == 204:
            params = case.path_parameters
            gone = params.get("subscriptionId") or params.get("serviceId")
            if gone in pool[app]:
                pool[app].remove(gone)

    def summary(self) -> str:
        lines = [f"  {op} -> {status}: {n}" for (op, status), n in sorted(self.calls.items())]
        return "\n".join([f"{sum(self.calls.values())} requests", *lines])


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


Platform = tuple[PlatformProcess, LiveIds]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real server on a fresh SQLite database, with two app instances and their resources."""
    env = platform_env(tmp_path_factory.mktemp("fuzz"))
    server = PlatformProcess(env).start()
    try:
        ids = LiveIds()
        with httpx.Client(base_url=server.api, timeout=10) as client:
            for name in ("fuzz-producer", "fuzz-consumer"):
                app = add_app(env, name)
                ids.services[app], ids.subscriptions[app] = _seed(client, app)
        yield server, ids
        print(f"\nschemathesis traffic against {server.api}: {ids.summary()}")
    finally:
        server.stop()


def _validate(case: Case[Any], response: Response, **kwargs: Any) -> None:
    """Run the configured checks; the error names the operation, the failures and a curl line."""
    try:
        case.validate_response(response, **kwargs)
    except FailureGroup as failures:
        # The generated items share one node id on pytest 9.2, so the message names the operation
        # (and the method actually sent, for the undeclared-method cases).
        label = case.operation.label
        if case.method.upper() != case.operation.method.upper():
            label = f"{label} sent as {case.method.upper()}"
        raise AssertionError(f"{label}: {failures.message}") from None


# Loaded from the file at import time: pytest needs the operations to collect one test each, and
# the lazy `schemathesis.pytest.from_fixture` loader breaks on pytest 9.2 (`Node._nodeid` is gone).
schema = schemathesis.openapi.from_path(SPEC, config=_config(CHECKS))


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case[Any], platform: Platform) -> None:
    server, ids = platform
    ids.steer(case)
    response = case.call(base_url=server.api)
    ids.record(case, response)
    _validate(case, response)


def _link(operation_id: str, parameters: dict[str, str], **extra: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters, **extra}


def _add_links(raw: dict[str, Any]) -> dict[str, Any]:
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
            "Read": _link(read, created),
            "Discover": _link("ServicesGETServiceid", {"serviceId": created["serviceId"]}),
            "Update": _link(update, {**created, **etag}, requestBody="$response.body"),
            "Deregister": _link(deregister, created),
        },
        ("/applications/{appInstanceId}/services/{serviceId}", "put", "200"): {
            "Read": _link(read, same),
            "Deregister": _link(deregister, same),
        },
        ("/applications/{appInstanceId}/services/{serviceId}", "delete", "204"): {
            "Read": _link(read, same),
        },
        ("/applications/{appInstanceId}/subscriptions", "post", "201"): {
            "Read": _link(read_subscription, subscribed),
            "Unsubscribe": _link(unsubscribe, subscribed),
        },
        ("/applications/{appInstanceId}/subscriptions/{subscriptionId}", "delete", "204"): {
            "Read": _link(read_subscription, same_subscription),
        },
    }
    for (path, method, status), targets in links.items():
        raw["paths"][path][method]["responses"][status]["links"] = targets
    return raw


def test_stateful_link_chains(platform: Platform) -> None:
    server, ids = platform
    raw = httpx.get(f"{server.api}/openapi.json", timeout=10).json()
    config = _config(STATEFUL_CHECKS, base_url=server.api, stateful=True)
    served = schemathesis.openapi.from_dict(_add_links(raw), config=config)

    failures: list[str] = []
    scenarios = Counter[str]()

    class SteeredMachine(served.as_state_machine()):  # type: ignore[misc]
        """The link chains, with ids steered, bodies made acceptable and calls counted."""

        def setup(self) -> None:
            scenarios["started"] += 1

        def before_call(self, case: Case[Any]) -> None:
            # Resource ids come from the links; steering them to ids that other scenarios create
            # and delete would make a replayed scenario take a different path.
            ids.steer(case, resources=False)
            _acceptable(case)

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            ids.record(case, response)

        def validate_response(self, response: Response, case: Case[Any], **kwargs: Any) -> None:
            try:
                _validate(case, response, transport_kwargs=kwargs or None, recorder=self.recorder)
            except AssertionError as failure:
                failures.append(str(failure))
                raise

    try:
        SteeredMachine.run(
            settings=settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=STATEFUL_STEPS,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        # A live server does not answer a replayed scenario as before (resources were created and
        # deleted since), which Hypothesis reports as flaky data; what counts is what failed.
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)
    print(f"\nstateful scenarios run: {scenarios['started']}")
