"""Fuzz the MEC 011 Application Support API of a real server with schemathesis.

The platform runs under gunicorn on SQLite without its data plane. It starts with app instances
made through the real admin command and POST /registrations (see `app_support_seed`). For every
operation of our spec schemathesis sends the spec's examples, its coverage cases and
`MAX_EXAMPLES` seeded random cases, valid and invalid; path ids are steered to the live
instances, rules and subscriptions most of the time (see `app_support_ids`). Each answer must be
documented (status code, content type, headers, body schema, so errors are ProblemDetails),
nothing may be a 5xx and invalid input must get a 4xx. Every request, the seeding's too, carries
a platform admin's bearer token. The 409s of rule updates, which random
cases seldom reach, are sent once on purpose. A last test follows links between the operations
(register, read, update, deregister; subscribe, read, unsubscribe; read a rule, update it with
its ETag) on the spec the server publishes under the `/v1` alias of the base path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.core.failures import Failure
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.openapi.checks import EnsureResourceAvailability

from tests.fuzz.app_support_ids import AppSupportIds
from tests.fuzz.app_support_seed import dns_rules, seed, traffic_rules
from tests.fuzz.support import (
    CHECKS,
    STATEFUL_CHECKS,
    add_links,
    config,
    fuzz_admin,
    link,
    run_link_chains,
    validate,
)
from tests.support.processes import REPO, PlatformProcess, platform_env

pytestmark = pytest.mark.e2e

SPEC = REPO / "specs" / "mec011_app_support.yaml"

# The server, what lives on it, and the admin's `Authorization` header.
Platform = tuple[PlatformProcess, AppSupportIds, dict[str, str]]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real server on a fresh SQLite database, with app instances and their resources."""
    folder = tmp_path_factory.mktemp("fuzz-app-support")
    env = platform_env(folder)
    server = PlatformProcess(env).start()
    try:
        auth = fuzz_admin(env)
        with httpx.Client(base_url=server.app_api, timeout=10, headers=auth) as client:
            ids = seed(env, folder, client)
        yield server, ids, auth
        print(f"\nschemathesis traffic against {server.app_api}: {ids.log.summary()}")
    finally:
        server.stop()


# Loaded at import time, as in `test_schemathesis`: one collected test per operation.
schema = schemathesis.openapi.from_path(SPEC, config=config(CHECKS))


def _put(platform: Platform, tag: str, kind: str, rule: dict[str, Any]) -> int:
    """PUT one seeded rule through schemathesis; the answer must be as documented."""
    server, ids, auth = platform
    key = "dnsRuleId" if kind == "dns_rules" else "trafficRuleId"
    path = f"/applications/{{appInstanceId}}/{kind}/{{{key}}}"
    case = schema[path]["PUT"].Case(
        path_parameters={"appInstanceId": ids.seeded[tag], key: rule[key]}, body=rule
    )
    response = case.call(base_url=server.app_api, headers=auth)
    ids.record(case, response)
    validate(case, response)
    return response.status_code


def test_conflicts_answer_as_documented(platform: Platform) -> None:
    """The two 409s of rule updates, which random cases seldom reach, are documented too."""
    shared_a, shared_b = dns_rules("a")[0], dns_rules("b")[0]
    assert _put(platform, "b", "dns_rules", {**shared_b, "state": "INACTIVE"}) == 200
    assert _put(platform, "a", "dns_rules", {**shared_a, "state": "ACTIVE"}) == 200
    assert _put(platform, "b", "dns_rules", {**shared_b, "state": "ACTIVE"}) == 409
    # No packet filter runs in this stack, so an ACTIVE traffic rule cannot take effect.
    drop = {**traffic_rules("a")[0], "state": "ACTIVE"}
    assert _put(platform, "a", "traffic_rules", drop) == 409


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case[Any], platform: Platform) -> None:
    server, ids, auth = platform
    ids.steer(case)
    response = case.call(base_url=server.app_api, headers=auth)
    ids.record(case, response)
    validate(case, response)


def _with_links(raw: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links between the operations, added on the test side (the spec declares none)."""
    app = {"appInstanceId": "$request.path.appInstanceId"}
    registered = {"appInstanceId": "$response.body#/appInstanceId"}
    subscribed = {**app, "subscriptionId": "$response.header.Location#regex:/([^/]+)$"}
    same_subscription = {**app, "subscriptionId": "$request.path.subscriptionId"}
    etag = {"header.If-Match": "$response.header.ETag"}
    registration = "/registrations/{appInstanceId}"
    links: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
        ("/registrations", "post", "201"): {
            "Read": link("RegistrationsGETAppinstanceid", registered),
            "Update": link(
                "RegistrationsPUTAppinstanceid", registered, requestBody="$response.body"
            ),
            "Deregister": link("RegistrationsDELETEAppinstanceid", registered),
            "Ready": link("ApplicationsConfirmreadyPOSTAppinstanceid", registered),
            "Subscribe": link("ApplicationsSubscriptionsPOSTAppinstanceid", registered),
        },
        (registration, "put", "204"): {
            "Read": link("RegistrationsGETAppinstanceid", app),
            "Deregister": link("RegistrationsDELETEAppinstanceid", app),
        },
        (registration, "delete", "204"): {"Read": link("RegistrationsGETAppinstanceid", app)},
        ("/applications/{appInstanceId}/subscriptions", "post", "201"): {
            "Read": link("ApplicationsSubscriptionsGETAppinstanceidSubscriptionid", subscribed),
            "Unsubscribe": link(
                "ApplicationsSubscriptionsDELETEAppinstanceidSubscriptionid", subscribed
            ),
        },
        ("/applications/{appInstanceId}/subscriptions/{subscriptionId}", "delete", "204"): {
            "Read": link(
                "ApplicationsSubscriptionsGETAppinstanceidSubscriptionid", same_subscription
            ),
        },
    }
    rule_kinds = (
        ("dns_rules", "dnsRuleId", "ApplicationsDnsrules{}AppinstanceidDnsruleid"),
        ("traffic_rules", "trafficRuleId", "ApplicationsTrafficrules{}AppinstanceidTrafficruleid"),
    )
    for kind, rule_id, operation in rule_kinds:
        collection = f"/applications/{{appInstanceId}}/{kind}"
        first = {**app, rule_id: f"$response.body#/0/{rule_id}"}
        one = {**app, rule_id: f"$request.path.{rule_id}"}
        read, update = operation.format("GET"), operation.format("PUT")
        links[(collection, "get", "200")] = {"Read": link(read, first)}
        links[(f"{collection}/{{{rule_id}}}", "get", "200")] = {
            "Update": link(update, {**one, **etag}, requestBody="$response.body")
        }
        links[(f"{collection}/{{{rule_id}}}", "put", "200")] = {"Read": link(read, one)}
    return add_links(raw, links)


def _deregistered_before(failure: Failure, case: Case[Any], recorder: ScenarioRecorder) -> bool:
    """A registration deleted earlier in the scenario took the app's subscriptions with it.

    `ensure_resource_availability` only knows that a DELETE removes the paths below its own;
    the instance's subscriptions live under /applications, not /registrations.
    """
    if not isinstance(failure, EnsureResourceAvailability):
        return False
    app_id = case.path_parameters.get("appInstanceId")
    for prior in recorder.find_all_cases():
        if (
            prior.method.upper() == "DELETE"
            and prior.path == "/registrations/{appInstanceId}"
            and prior.path_parameters.get("appInstanceId") == app_id
        ):
            answer = recorder.find_response(case_id=prior.id)
            if answer is not None and answer.status_code == 204:
                return True
    return False


def test_stateful_link_chains(platform: Platform) -> None:
    server, ids, auth = platform
    alias = f"{server.root}/mec_app_support/v1"
    raw = httpx.get(f"{alias}/openapi.json", timeout=10, headers=auth).json()
    served = schemathesis.openapi.from_dict(
        _with_links(raw),
        config=config(STATEFUL_CHECKS, base_url=alias, stateful=True, headers=auth),
    )

    def before_call(case: Case[Any], linked: bool) -> None:
        # Only a chain's first call has its path steered (to a live app, not to resources that
        # other scenarios create and delete): along a link, ids come from the link or are left
        # as generated, else `ensure_resource_availability` would take a steered id for a
        # linked one. Bodies are made acceptable throughout, so that chains go on.
        ids.steer(case, resources=False, always=True, path=not linked)

    def after_call(case: Case[Any], response: Response) -> None:
        ids.record(case, response)

    scenarios = run_link_chains(served, before_call, after_call, _deregistered_before)
    print(f"\nstateful scenarios run: {scenarios}")
