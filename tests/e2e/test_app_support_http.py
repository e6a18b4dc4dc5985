"""Application Support over real HTTP: registration, readiness, termination, rules, timing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, run_stack
from tests.support.net import wait_until
from tests.support.processes import admin
from tests.support.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e


def dns_rule(rule_id: str, name: str, address: str = "10.9.0.7", **extra: Any) -> dict[str, Any]:
    return {
        "dnsRuleId": rule_id,
        "domainName": name,
        "ipAddressType": "IP_V4",
        "ipAddress": address,
        "ttl": 30,
        "state": "INACTIVE",
        **extra,
    }


def traffic_rule(rule_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "trafficRuleId": rule_id,
        "filterType": "PACKET",
        "priority": 5,
        "trafficFilter": [{"dstPort": ["8080"], "protocol": ["TCP"]}],
        "action": "DROP",
        "state": "INACTIVE",
        **extra,
    }


def register(stack: Stack, **info: Any) -> dict[str, Any]:
    response = stack.http.post(f"{stack.app_api}/registrations", json={"appName": "app", **info})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["Location"].endswith(f"/registrations/{body['appInstanceId']}")
    return body


def termination_subscription(app: str, callback: str) -> dict[str, str]:
    return {
        "subscriptionType": "AppTerminationNotificationSubscription",
        "callbackReference": callback,
        "appInstanceId": app,
    }


def confirm_ready(stack: Stack, app: str) -> int:
    url = f"{stack.app_api}/applications/{app}/confirm_ready"
    return stack.http.post(url, json={"indication": "READY"}).status_code


def assert_problem(response: Any, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    if field is not None:
        assert field in problem["detail"]


def test_registration_lifecycle(shared_stack: Stack) -> None:
    stack = shared_stack
    created = register(stack, appName="camera", appProvider="acme", isInsByMec=False)
    app = created["appInstanceId"]
    url = f"{stack.app_api}/registrations/{app}"
    assert stack.http.get(url).json() == created
    old_base = f"{stack.server.root}/mec_app_support/v1"
    assert stack.http.get(f"{old_base}/registrations/{app}").json() == created
    # Clients of the older version get links of their own version.
    older = stack.http.post(f"{old_base}/registrations", json={"appName": "old-client"})
    assert older.headers["Location"].startswith(f"{old_base}/registrations/")

    updated = stack.http.put(url, json={"appName": "camera", "appProvider": "acme-2"})
    assert updated.status_code == 204 and not updated.content
    assert stack.http.get(url).json()["appProvider"] == "acme-2"
    assert_problem(stack.http.put(url, json={"appName": "x", "appInstanceId": "other"}), 400)

    assert stack.http.delete(url).status_code == 204
    assert_problem(stack.http.get(url), 404)
    # The instance went with its registration: Service Management no longer knows it.
    assert_problem(stack.http.get(f"{stack.api}/applications/{app}/services"), 404)


def test_registration_checks_what_the_platform_offers(shared_stack: Stack) -> None:
    stack = shared_stack
    name = f"needed-{uuid.uuid4().hex[:8]}"
    wanted = {"serName": name, "version": "2.0"}
    before = admin(stack.env, "app", "list").stdout
    refused = stack.http.post(
        f"{stack.app_api}/registrations", json={"appName": "c", "appServiceRequired": [wanted]}
    )
    assert_problem(refused, 400, "appServiceRequired[0]")
    assert admin(stack.env, "app", "list").stdout == before  # nothing stored

    producer = register(stack, appName="producer")["appInstanceId"]
    stack.http.post(
        f"{stack.api}/applications/{producer}/services",
        json={
            "serName": name,
            "version": "2.0",
            "state": "ACTIVE",
            "serializer": "JSON",
            "transportId": "rest-http",
        },
    ).raise_for_status()
    register(stack, appName="consumer", appServiceRequired=[wanted])
    feature = {"featureName": "Teleport", "version": "1"}
    assert_problem(
        stack.http.post(
            f"{stack.app_api}/registrations", json={"appName": "c", "appFeatureRequired": [feature]}
        ),
        400,
        "appFeatureRequired[0]",
    )
    register(stack, appFeatureRequired=[{"featureName": "DnsRules", "version": "3.1.1"}])


def test_platform_created_instance_registers_itself(shared_stack: Stack) -> None:
    stack = shared_stack
    app = stack.add_app("managed")
    created = register(stack, appName="managed", appInstanceId=app, isInsByMec=True)
    assert created["appInstanceId"] == app
    again = stack.http.post(
        f"{stack.app_api}/registrations",
        json={"appName": "managed", "appInstanceId": app, "isInsByMec": True},
    )
    assert_problem(again, 409)
    unknown = stack.http.post(
        f"{stack.app_api}/registrations",
        json={"appName": "ghost", "appInstanceId": str(uuid.uuid4()), "isInsByMec": True},
    )
    assert_problem(unknown, 404)
    # Deregistering a platform-created instance keeps the instance.
    stack.http.delete(f"{stack.app_api}/registrations/{app}").raise_for_status()
    assert stack.http.get(f"{stack.api}/applications/{app}/services").status_code == 200


def test_confirm_ready_conflict_then_rate_limit(shared_stack: Stack) -> None:
    stack = shared_stack
    app = register(stack)["appInstanceId"]
    assert confirm_ready(stack, app) == 204
    statuses = [confirm_ready(stack, app) for _ in range(30)]
    assert statuses[0] == 409
    assert set(statuses) == {409, 429}
    limited = stack.http.post(
        f"{stack.app_api}/applications/{app}/confirm_ready", json={"indication": "READY"}
    )
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert_problem(
        stack.http.post(
            f"{stack.app_api}/applications/{uuid.uuid4()}/confirm_ready",
            json={"indication": "READY"},
        ),
        404,
    )
    assert_problem(
        stack.http.post(
            f"{stack.app_api}/applications/{app}/confirm_ready", json={"indication": "SOON"}
        ),
        400,
    )


def test_termination_notified_and_confirmed(
    shared_stack: Stack, receiver: CallbackReceiver
) -> None:
    stack = shared_stack
    app = register(stack, appName="leaving")["appInstanceId"]
    base = f"{stack.app_api}/applications/{app}"
    subscription = stack.http.post(
        f"{base}/subscriptions", json=termination_subscription(app, receiver.url("/bye"))
    )
    assert subscription.status_code == 201, subscription.text
    links = stack.http.get(f"{base}/subscriptions").json()["_links"]["subscriptions"]
    assert [link["href"] for link in links] == [subscription.headers["Location"]]
    assert_problem(
        stack.http.post(f"{base}/confirm_termination", json={"operationAction": "TERMINATING"}),
        409,
    )

    started = admin(stack.env, "app", "terminate", app, "--graceful-timeout", "30")
    assert started.returncode == 0, started.stderr
    wait_until(lambda: receiver.bodies("/bye"), timeout=10)
    notice = receiver.bodies("/bye")[0]
    assert notice["notificationType"] == "AppTerminationNotification"
    assert notice["operationAction"] == "TERMINATING"
    assert notice["maxGracefulTimeout"] == 30
    assert notice["_links"]["subscription"]["href"] == subscription.headers["Location"]
    confirm = notice["_links"]["confirmTermination"]["href"]
    assert confirm == f"{base}/confirm_termination"
    assert_problem(stack.http.post(confirm, json={"operationAction": "STOPPING"}), 409)
    assert stack.http.post(confirm, json={"operationAction": "TERMINATING"}).status_code == 204
    assert_problem(stack.http.get(f"{stack.app_api}/registrations/{app}"), 404)


def test_unconfirmed_termination_ends_at_the_deadline(
    shared_stack: Stack, receiver: CallbackReceiver
) -> None:
    stack = shared_stack
    app = register(stack, appName="slow")["appInstanceId"]
    stack.http.post(
        f"{stack.app_api}/applications/{app}/subscriptions",
        json=termination_subscription(app, receiver.url("/slow")),
    ).raise_for_status()
    admin(stack.env, "app", "terminate", app, "--graceful-timeout", "1")
    wait_until(lambda: receiver.bodies("/slow"), timeout=10)
    started = time.monotonic()
    wait_until(
        lambda: stack.http.get(f"{stack.app_api}/registrations/{app}").status_code == 404,
        timeout=10,
    )
    assert time.monotonic() - started < 5


def test_subscription_ownership_and_validation(shared_stack: Stack) -> None:
    stack = shared_stack
    owner = register(stack)["appInstanceId"]
    other = register(stack)["appInstanceId"]
    body = termination_subscription(owner, "http://127.0.0.1:9/cb")
    created = stack.http.post(f"{stack.app_api}/applications/{owner}/subscriptions", json=body)
    sub_id = created.headers["Location"].rsplit("/", 1)[-1]
    foreign = f"{stack.app_api}/applications/{other}/subscriptions/{sub_id}"
    assert_problem(stack.http.get(foreign), 403)
    assert_problem(stack.http.delete(foreign), 403)
    assert_problem(
        stack.http.post(f"{stack.app_api}/applications/{other}/subscriptions", json=body),
        400,
        "appInstanceId",
    )
    assert_problem(
        stack.http.post(
            f"{stack.app_api}/applications/{owner}/subscriptions",
            json={**body, "subscriptionType": "SerAvailabilityNotificationSubscription"},
        ),
        400,
    )
    own = f"{stack.app_api}/applications/{owner}/subscriptions/{sub_id}"
    assert stack.http.get(own).json()["callbackReference"] == body["callbackReference"]
    assert stack.http.delete(own).status_code == 204
    assert_problem(stack.http.get(own), 404)


def test_rules_read_and_replace(shared_stack: Stack, tmp_path: Path) -> None:
    stack = shared_stack
    name = f"r{uuid.uuid4().hex[:8]}.example.mec"
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps({"dnsRules": [dns_rule("d1", name)], "trafficRules": [traffic_rule("t1")]})
    )
    app = stack.add_app("ruled", "--rules", str(rules))
    base = f"{stack.app_api}/applications/{app}"
    assert stack.http.get(f"{base}/dns_rules").json() == [dns_rule("d1", name)]
    assert stack.http.get(f"{base}/traffic_rules").json() == [traffic_rule("t1")]

    one = stack.http.get(f"{base}/dns_rules/d1")
    etag = one.headers["ETag"]
    stale = stack.http.put(
        f"{base}/dns_rules/d1", json=dns_rule("d1", name, ttl=60), headers={"If-Match": '"x"'}
    )
    assert_problem(stale, 412)
    changed = stack.http.put(
        f"{base}/dns_rules/d1", json=dns_rule("d1", name, ttl=60), headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ttl"] == 60 and changed.headers["ETag"] != etag
    assert_problem(stack.http.put(f"{base}/dns_rules/d1", json=dns_rule("d2", name)), 400)
    assert_problem(stack.http.get(f"{base}/dns_rules/none"), 404)
    assert_problem(
        stack.http.put(f"{base}/dns_rules/d1", json=dns_rule("d1", name, ipAddress="::1")), 400
    )

    forward = traffic_rule("t1", action="FORWARD_DECAPSULATED")
    assert_problem(stack.http.put(f"{base}/traffic_rules/t1", json=forward), 400, "action")
    tagged = traffic_rule("t1", trafficFilter=[{"tag": ["7"]}])
    assert_problem(stack.http.put(f"{base}/traffic_rules/t1", json=tagged), 400, "tag")
    # This stack runs without a data plane: an ACTIVE traffic rule could not take effect.
    active = traffic_rule("t1", state="ACTIVE")
    assert_problem(stack.http.put(f"{base}/traffic_rules/t1", json=active), 409)
    assert stack.http.get(f"{base}/traffic_rules/t1").json() == traffic_rule("t1")
    moved = stack.http.put(f"{base}/traffic_rules/t1", json=traffic_rule("t1", priority=1))
    assert moved.status_code == 200 and moved.json()["priority"] == 1

    other = stack.add_app("other")
    foreign = f"{stack.app_api}/applications/{other}/dns_rules/d1"
    assert_problem(stack.http.get(foreign), 403)
    assert_problem(stack.http.put(foreign, json=dns_rule("d1", name)), 403)
    assert_problem(stack.http.get(f"{stack.app_api}/applications/{other}/traffic_rules/t1"), 403)
    assert admin(stack.env, "app", "remove", app).returncode == 0
    assert_problem(stack.http.get(f"{base}/dns_rules"), 404)


def test_wrong_method_lists_every_allowed_one(shared_stack: Stack) -> None:
    stack = shared_stack
    app = register(stack)["appInstanceId"]
    cases = {
        f"{stack.app_api}/applications/{app}/dns_rules/x": "GET, HEAD, PUT",
        f"{stack.app_api}/registrations/{app}": "DELETE, GET, HEAD, PUT",
        f"{stack.app_api}/applications/{app}/subscriptions": "GET, HEAD, POST",
        f"{stack.api}/applications/{app}/services/x": "DELETE, GET, HEAD, PUT",
    }
    for url, allowed in cases.items():
        refused = stack.http.request("PATCH", url, json={})
        assert_problem(refused, 405)
        assert refused.headers["Allow"] == allowed, url


def test_timing(shared_stack: Stack) -> None:
    stack = shared_stack
    now = stack.http.get(f"{stack.app_api}/timing/current_time").json()
    assert abs(now["seconds"] - time.time()) < 5
    assert 0 <= now["nanoSeconds"] < 1_000_000_000
    assert now["timeSourceStatus"] in {"TRACEABLE", "NONTRACEABLE"}
    caps = stack.http.get(f"{stack.app_api}/timing/timing_caps").json()
    assert set(caps) == {"timeStamp", "ntpServers", "ptpMasters"}


@pytest.fixture
def gated_stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A platform that shows an application's services only once it confirmed ready."""
    yield from run_stack(
        database_url, tmp_path, MEC_REQUIRE_READY="true", MEC_LIVENESS_MIN_INTERVAL="1"
    )


def test_ready_service_heartbeat_and_silence(
    gated_stack: Stack, receiver: CallbackReceiver
) -> None:
    """register -> service -> confirm_ready -> heartbeats -> silence -> SUSPENDED notice."""
    stack = gated_stack
    watcher = register(stack, appName="watcher")["appInstanceId"]
    stack.http.post(
        f"{stack.api}/applications/{watcher}/subscriptions",
        json={
            "subscriptionType": "SerAvailabilityNotificationSubscription",
            "callbackReference": receiver.url("/svc"),
        },
    ).raise_for_status()
    app = register(stack, appName="producer")["appInstanceId"]
    created = stack.http.post(
        f"{stack.api}/applications/{app}/services",
        json={
            "serName": "gated",
            "version": "1",
            "state": "ACTIVE",
            "serializer": "JSON",
            "transportId": "rest-http",
            "livenessInterval": 1,
        },
    ).json()
    assert stack.http.get(f"{stack.api}/services?ser_name=gated").json() == []
    liveness = created["_links"]["liveness"]["href"]
    for _ in range(3):
        assert stack.http.patch(liveness, json={"state": "ACTIVE"}).status_code == 204
        time.sleep(0.3)
    assert receiver.bodies("/svc") == []  # not announced before the app is ready

    assert confirm_ready(stack, app) == 204
    found = stack.http.get(f"{stack.api}/services?ser_name=gated").json()
    assert [s["serInstanceId"] for s in found] == [created["serInstanceId"]]
    wait_until(lambda: receiver.bodies("/svc"), timeout=10)
    assert receiver.bodies("/svc")[0]["serviceReferences"][0]["changeType"] == "ADDED"
    for _ in range(3):
        assert stack.http.patch(liveness, json={"state": "ACTIVE"}).status_code == 204
        time.sleep(0.3)

    def states() -> list[str]:
        return [b["serviceReferences"][0]["state"] for b in receiver.bodies("/svc")]

    wait_until(lambda: "SUSPENDED" in states(), timeout=15)
    assert stack.http.patch(liveness, json={"state": "ACTIVE"}).status_code == 204
