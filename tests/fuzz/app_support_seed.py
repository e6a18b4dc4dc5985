"""The app instances the Application Support fuzz run starts with, made the way operators do.

Two instances get DNS and traffic rules through the real admin command (app "a" as options,
app "b" as a rules file); "a" is then registered as instantiated by MEC management. A third
instance is being stopped gracefully, so confirm_termination has a stop to confirm, and a fourth
exists only through its registration. Every instance has termination subscriptions. The HTTP
client given carries a platform admin's token; the client secrets the registrations hand out are
remembered, so the end of the run can check that no log shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.fuzz.app_support_ids import AppSupportIds, LiveApp
from tests.support.processes import add_app, admin
from tests.support.secrets import remember

SUBSCRIPTIONS_PER_APP = 3
CALLBACK = "http://127.0.0.1:9/termination"
# Both rule apps have a rule for this name: the one of app "b" cannot become ACTIVE while the
# one of app "a" is (409), which the fuzzing reaches when it switches states.
SHARED_DOMAIN = "shared.fuzz.test"


def dns_rules(tag: str) -> list[dict[str, Any]]:
    """Three DNS rules: the shared name, an IPv4 one with a TTL and an IPv6 one without."""
    return [
        {
            "dnsRuleId": f"{tag}-dns-shared",
            "domainName": SHARED_DOMAIN,
            "ipAddressType": "IP_V4",
            "ipAddress": "192.0.2.10",
            "state": "ACTIVE" if tag == "a" else "INACTIVE",
        },
        {
            "dnsRuleId": f"{tag}-dns-v4",
            "domainName": f"{tag}.fuzz.test",
            "ipAddressType": "IP_V4",
            "ipAddress": "192.0.2.20",
            "ttl": 60,
            "state": "INACTIVE",
        },
        {
            "dnsRuleId": f"{tag}-dns-v6",
            "domainName": f"v6.{tag}.fuzz.test",
            "ipAddressType": "IP_V6",
            "ipAddress": "2001:db8::20",
            "state": "ACTIVE",
        },
    ]


def traffic_rules(tag: str) -> list[dict[str, Any]]:
    """Two enforceable traffic rules, INACTIVE: this test stack runs no data plane."""
    return [
        {
            "trafficRuleId": f"{tag}-tr-drop",
            "filterType": "FLOW",
            "priority": 10,
            "trafficFilter": [
                {"dstAddress": ["192.0.2.0/24"], "dstPort": ["23"], "protocol": ["TCP"]}
            ],
            "action": "DROP",
            "state": "INACTIVE",
        },
        {
            "trafficRuleId": f"{tag}-tr-pass",
            "filterType": "PACKET",
            "priority": 200,
            "trafficFilter": [{"srcAddress": ["10.0.0.0/8"], "protocol": ["UDP"], "dSCP": 46}],
            "action": "PASSTHROUGH",
            "state": "INACTIVE",
        },
    ]


def _add_rule_app(env: dict[str, str], folder: Path, tag: str, ids: AppSupportIds) -> str:
    """An app instance with rules: app "a" gets them as options, the others as a rules file."""
    dns, traffic = dns_rules(tag), traffic_rules(tag)
    if tag == "a":
        options = [f"--dns-rule={json.dumps(rule)}" for rule in dns]
        options += [f"--traffic-rule={json.dumps(rule)}" for rule in traffic]
    else:
        rules = folder / f"rules-{tag}.json"
        rules.write_text(json.dumps({"dnsRules": dns, "trafficRules": traffic}))
        options = ["--rules", str(rules)]
    app_id = ids.seeded[tag] = add_app(env, f"fuzz-rules-{tag}", *options)
    ids.add(
        app_id,
        LiveApp(
            managed=True,
            dns_rules=[rule["dnsRuleId"] for rule in dns],
            traffic_rules=[rule["trafficRuleId"] for rule in traffic],
        ),
    )
    for rule in dns:
        where = ("domainName", "ipAddressType", "ipAddress")
        ids.dns_rules[rule["dnsRuleId"]] = {name: rule[name] for name in where}
    for rule in traffic:
        ids.traffic_rules[rule["trafficRuleId"]] = {
            "trafficFilter": rule["trafficFilter"],
            "action": rule["action"],
        }
    return app_id


def _subscribe(client: httpx.Client, app_id: str, ids: AppSupportIds) -> None:
    for _ in range(SUBSCRIPTIONS_PER_APP):
        body = {
            "subscriptionType": "AppTerminationNotificationSubscription",
            "callbackReference": CALLBACK,
            "appInstanceId": app_id,
        }
        response = client.post(f"/applications/{app_id}/subscriptions", json=body)
        assert response.status_code == 201, response.text
        ids.apps[app_id].subscriptions.append(response.headers["Location"].rsplit("/", 1)[-1])


def _register(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/registrations", json=body)
    assert response.status_code == 201, response.text
    # A new instance (not one MEC management made) gets its client secret in this answer.
    remember(response.headers.get("MEC-Client-Secret", ""))
    return str(response.json()["appInstanceId"])


def seed(env: dict[str, str], folder: Path, client: httpx.Client) -> AppSupportIds:
    """Rule apps "a" (registered) and "b", an app being stopped, and an unmanaged one."""
    ids = AppSupportIds()
    rule_a = _add_rule_app(env, folder, "a", ids)
    _add_rule_app(env, folder, "b", ids)
    _register(client, {"appName": "fuzz-rules-a", "isInsByMec": True, "appInstanceId": rule_a})
    stopping = add_app(env, "fuzz-stopping")
    ids.add(stopping, LiveApp(managed=True))
    unmanaged = _register(client, {"appName": "fuzz-own", "endpoint": {"uris": [CALLBACK]}})
    ids.add(unmanaged, LiveApp(managed=False))
    for app_id in ids.apps:
        _subscribe(client, app_id, ids)
    # With subscribers the stop waits for their confirmation (no worker ends it here), so
    # confirm_termination with STOPPING has one 204 to give.
    stop = admin(env, "app", "terminate", stopping, "--stop", "--graceful-timeout", "3600")
    assert stop.returncode == 0, stop.stderr
    return ids
