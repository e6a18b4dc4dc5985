"""Unit tests of the MEC 011 Application Support wire mappers (`appsupport.wire`)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mec_platform.appsupport.model import (
    AppInfo,
    FeatureDependency,
    ServiceDependency,
    TerminationSubscription,
)
from mec_platform.appsupport.rules import (
    DestinationInterface,
    DnsRule,
    FilterType,
    IpAddressType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
    TunnelInfo,
)
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import (
    app_info_from_wire,
    app_info_to_wire,
    dns_rule_from_wire,
    dns_rule_to_wire,
    subscription_link_list,
    termination_notification,
    termination_subscription_from_wire,
    termination_subscription_to_wire,
    traffic_rule_from_wire,
    traffic_rule_to_wire,
)
from mec_platform.errors import InvalidInput
from mec_platform.registry.model import AppInstance

URLS = AppSupportUrls("http://mec.test:8080/")
BASE = "http://mec.test:8080/mec_app_support/v2"

DNS_BODY: dict[str, Any] = {
    "dnsRuleId": "dns-1",
    "domainName": "cam.mec.test",
    "ipAddressType": "IP_V6",
    "ipAddress": "fd00::7",
    "ttl": 300,
    "state": "ACTIVE",
}

INTERFACE: dict[str, Any] = {
    "interfaceType": "TUNNEL",
    "tunnelInfo": {
        "tunnelType": "GTP_U",
        "tunnelDstAddress": "10.0.0.2",
        "tunnelSrcAddress": "10.0.0.1",
    },
    "srcMacAddress": "02:00:00:00:00:01",
    "dstMacAddress": "02:00:00:00:00:02",
    "dstIpAddress": "10.0.0.2",
}

TRAFFIC_BODY: dict[str, Any] = {
    "trafficRuleId": "tr-1",
    "filterType": "FLOW",
    "priority": 7,
    "trafficFilter": [
        {
            "srcAddress": ["10.0.0.0/24"],
            "dstAddress": ["10.1.0.1", "10.1.0.2-10.1.0.9"],
            "srcPort": ["1024-65535"],
            "dstPort": ["443"],
            "protocol": ["TCP"],
            "tag": ["t"],
            "srcTunnelAddress": ["10.2.0.1"],
            "tgtTunnelAddress": ["10.2.0.2"],
            "srcTunnelPort": ["2152"],
            "dstTunnelPort": ["2153"],
            "qCI": 9,
            "dSCP": 46,
            "tC": 3,
        },
        {"protocol": ["UDP"]},
    ],
    "action": "DROP",
    "state": "INACTIVE",
    "dstInterface": INTERFACE,
}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with top-level changes; a value of None removes the key."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# -- DNS rules ------------------------------------------------------------------------------
def test_dns_rule_round_trip() -> None:
    rule = dns_rule_from_wire(DNS_BODY, revision=4)
    assert rule == DnsRule(
        "dns-1", "cam.mec.test", IpAddressType.IP_V6, "fd00::7", RuleState.ACTIVE, 300, 4
    )
    assert dns_rule_to_wire(rule) == DNS_BODY


def test_dns_rule_without_ttl_leaves_it_out() -> None:
    plain = body(DNS_BODY, ttl=None, ipAddressType="IP_V4", ipAddress="10.0.0.7")
    rule = dns_rule_from_wire(plain)
    assert (rule.ttl, rule.revision) == (None, 1)
    assert dns_rule_to_wire(rule) == plain


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ipAddressType": "IPV4"}, "ipAddressType"),
        ({"ipAddressType": None}, "ipAddressType"),
        ({"state": "ON"}, "state"),
        ({"state": "active"}, "state"),
        ({"dnsRuleId": None}, "dnsRuleId"),
        ({"domainName": None}, "domainName"),
        ({"ipAddress": None}, "ipAddress"),
        ({"ipAddress": "10.0.0.1"}, "ipAddress"),  # IP_V6 declared
        ({"domainName": "bad_.domain..test"}, "domainName"),
    ],
)
def test_bad_dns_rules_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        dns_rule_from_wire(body(DNS_BODY, **changes))
    assert str(raised.value).startswith(f"{field}:")


def test_bad_enum_message_lists_the_allowed_values() -> None:
    with pytest.raises(InvalidInput) as raised:
        dns_rule_from_wire(body(DNS_BODY, state="ON"))
    assert str(raised.value) == "state: 'ON' is not one of ACTIVE, INACTIVE"


# -- traffic rules --------------------------------------------------------------------------
def test_traffic_rule_from_wire_reads_every_field() -> None:
    rule = traffic_rule_from_wire(TRAFFIC_BODY, revision=2)
    assert rule == TrafficRule(
        traffic_rule_id="tr-1",
        filter_type=FilterType.FLOW,
        priority=7,
        traffic_filter=(
            TrafficFilter(
                src_address=("10.0.0.0/24",),
                dst_address=("10.1.0.1", "10.1.0.2-10.1.0.9"),
                src_port=("1024-65535",),
                dst_port=("443",),
                protocol=("TCP",),
                tag=("t",),
                src_tunnel_address=("10.2.0.1",),
                tgt_tunnel_address=("10.2.0.2",),
                src_tunnel_port=("2152",),
                dst_tunnel_port=("2153",),
                q_ci=9,
                d_scp=46,
                t_c=3,
            ),
            TrafficFilter(protocol=("UDP",)),
        ),
        action=TrafficAction.DROP,
        state=RuleState.INACTIVE,
        dst_interface=(
            DestinationInterface(
                interface_type="TUNNEL",
                tunnel_info=TunnelInfo("GTP_U", "10.0.0.2", "10.0.0.1"),
                src_mac_address="02:00:00:00:00:01",
                dst_mac_address="02:00:00:00:00:02",
                dst_ip_address="10.0.0.2",
            ),
        ),
        revision=2,
    )


def test_traffic_rule_round_trip_with_one_interface_as_an_object() -> None:
    wire = traffic_rule_to_wire(traffic_rule_from_wire(TRAFFIC_BODY))
    assert wire == TRAFFIC_BODY
    assert isinstance(wire["dstInterface"], dict)
    # It survives JSON, as the storage layer keeps it.
    assert traffic_rule_from_wire(json.loads(json.dumps(wire))) == traffic_rule_from_wire(wire)


def test_one_interface_given_as_a_list_comes_back_as_an_object() -> None:
    rule = traffic_rule_from_wire(body(TRAFFIC_BODY, dstInterface=[INTERFACE]))
    assert rule == traffic_rule_from_wire(TRAFFIC_BODY)
    assert traffic_rule_to_wire(rule)["dstInterface"] == INTERFACE


def test_several_interfaces_stay_a_list() -> None:
    second = {"interfaceType": "MAC", "dstMacAddress": "02:00:00:00:00:03"}
    wire = body(TRAFFIC_BODY, dstInterface=[INTERFACE, second])
    rule = traffic_rule_from_wire(wire)
    assert [i.interface_type for i in rule.dst_interface] == ["TUNNEL", "MAC"]
    assert rule.dst_interface[1].tunnel_info is None
    assert traffic_rule_to_wire(rule) == wire


def test_traffic_rule_without_interface_and_with_empty_lists() -> None:
    wire = body(TRAFFIC_BODY, dstInterface=None, trafficFilter=[{"srcAddress": [], "dSCP": 0}])
    rule = traffic_rule_from_wire(wire)
    assert rule.dst_interface == ()
    assert rule.traffic_filter == (TrafficFilter(d_scp=0),)
    assert traffic_rule_to_wire(rule) == body(wire, trafficFilter=[{"dSCP": 0}])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filterType": "STREAM"}, "filterType"),
        ({"action": "REDIRECT"}, "action"),
        ({"action": None}, "action"),
        ({"state": "PAUSED"}, "state"),
        ({"trafficRuleId": None}, "trafficRuleId"),
        ({"priority": None}, "priority"),
        ({"trafficFilter": []}, "trafficFilter"),
        ({"trafficFilter": None}, "trafficFilter"),
        ({"dstInterface": {"tunnelInfo": {"tunnelType": "GTP_U"}}}, "dstInterface.interfaceType"),
        (
            {"dstInterface": {"interfaceType": "TUNNEL", "tunnelInfo": {"tunnelDstAddress": "x"}}},
            "dstInterface.tunnelInfo.tunnelType",
        ),
    ],
)
def test_bad_traffic_rules_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        traffic_rule_from_wire(body(TRAFFIC_BODY, **changes))
    assert str(raised.value).startswith(f"{field}:")


# -- registrations --------------------------------------------------------------------------
APP_INFO: dict[str, Any] = {
    "appInstanceId": "app-1",
    "appName": "camera",
    "appProvider": "ACME",
    "appDId": "d-1",
    "appDescription": "counts cars",
    "isInsByMec": True,
    "appProfile": {"easId": "e-1", "endPt": {"uris": ["http://10.0.0.5"]}},
    "appServiceRequired": [
        {
            "serName": "rni",
            "version": "2.2.1",
            "serCategory": {"href": "http://x/cat", "id": "cat-rni", "name": "RNI", "version": "1"},
            "serTransportDependencies": [
                {"transport": {"type": "REST_HTTP", "protocol": "HTTP", "version": "2"}},
                {"transport": {"type": "MB_TOPIC_BASED", "protocol": "MQTT", "version": "3"}},
            ],
            "requestedPermissions": ["read"],
        },
        {"serName": "location", "version": "3"},
    ],
    "appServiceOptional": [{"serName": "wlan", "version": "1"}],
    "appFeatureRequired": [{"featureName": "DnsRules", "version": "3.1.1"}],
    "appFeatureOptional": [{"featureName": "Timing", "version": "3.1.1"}],
}


def test_app_info_from_wire_parses_what_the_platform_acts_on() -> None:
    parsed = app_info_from_wire(APP_INFO)
    assert parsed.app_name == "camera"
    assert parsed.is_ins_by_mec is True
    assert parsed.services_required == (
        ServiceDependency("rni", "2.2.1", "cat-rni", ("REST_HTTP", "MB_TOPIC_BASED")),
        ServiceDependency("location", "3"),
    )
    assert parsed.features_required == (FeatureDependency("DnsRules", "3.1.1"),)


def test_app_info_document_keeps_every_field_but_the_instance_id() -> None:
    parsed = app_info_from_wire(APP_INFO)
    assert parsed.document == body(APP_INFO, appInstanceId=None)
    app = AppInstance("app-42", "camera", info=parsed)
    assert app_info_to_wire(app) == body(APP_INFO, appInstanceId="app-42")


def test_minimal_app_info() -> None:
    parsed = app_info_from_wire({"appName": "x"})
    assert parsed == AppInfo(app_name="x", document={"appName": "x"})
    assert app_info_to_wire(AppInstance("i", "x", info=parsed)) == {
        "appName": "x",
        "appInstanceId": "i",
    }


def test_app_info_of_an_unregistered_instance_is_its_name() -> None:
    assert app_info_to_wire(AppInstance("i", "cam")) == {"appName": "cam", "appInstanceId": "i"}


@pytest.mark.parametrize("name", ["", "   "])
def test_app_name_must_not_be_empty(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"^appName:"):
        app_info_from_wire({"appName": name})


# -- termination subscriptions and notifications --------------------------------------------
def test_termination_subscription_request() -> None:
    request = {
        "subscriptionType": "AppTerminationNotificationSubscription",
        "callbackReference": "http://app.test/cb",
        "appInstanceId": "app-1",
    }
    assert termination_subscription_from_wire("app-1", request) == "http://app.test/cb"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subscriptionType": "SerAvailabilityNotificationSubscription"}, "subscriptionType"),
        ({"subscriptionType": None}, "subscriptionType"),
        ({"appInstanceId": "app-2"}, "appInstanceId"),
        ({"appInstanceId": None}, "appInstanceId"),
    ],
)
def test_termination_subscription_request_checks(changes: dict[str, Any], field: str) -> None:
    request = body(
        {
            "subscriptionType": "AppTerminationNotificationSubscription",
            "callbackReference": "http://app.test/cb",
            "appInstanceId": "app-1",
        },
        **changes,
    )
    with pytest.raises(InvalidInput) as raised:
        termination_subscription_from_wire("app-1", request)
    assert str(raised.value).startswith(f"{field}:")


def test_termination_subscription_representation() -> None:
    subscription = TerminationSubscription("sub/1", "app 1", "http://app.test/cb")
    assert termination_subscription_to_wire(subscription, URLS) == {
        "subscriptionType": "AppTerminationNotificationSubscription",
        "callbackReference": "http://app.test/cb",
        "_links": {"self": {"href": f"{BASE}/applications/app%201/subscriptions/sub%2F1"}},
        "appInstanceId": "app 1",
    }


def test_subscription_link_list() -> None:
    subs = [TerminationSubscription(s, "app-1", "http://cb") for s in ("a", "b")]
    assert subscription_link_list("app-1", subs, URLS) == {
        "_links": {
            "self": {"href": f"{BASE}/applications/app-1/subscriptions"},
            "subscriptions": [
                {
                    "href": f"{BASE}/applications/app-1/subscriptions/{s}",
                    "subscriptionType": "AppTerminationNotificationSubscription",
                }
                for s in ("a", "b")
            ],
        }
    }
    assert subscription_link_list("app-1", [], URLS)["_links"]["subscriptions"] == []


def test_termination_notification() -> None:
    subscription = TerminationSubscription("s-1", "app-1", "http://cb")
    assert termination_notification(subscription, "STOPPING", 12, URLS) == {
        "notificationType": "AppTerminationNotification",
        "operationAction": "STOPPING",
        "maxGracefulTimeout": 12,
        "_links": {
            "subscription": {"href": f"{BASE}/applications/app-1/subscriptions/s-1"},
            "confirmTermination": {"href": f"{BASE}/applications/app-1/confirm_termination"},
        },
    }
