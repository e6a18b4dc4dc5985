"""MEC 033 wire mapping: DeviceInfo and IotPlatformInfo both ways, `fields` and `filter`."""

from __future__ import annotations

from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.http.attribute_filter import apply_filter
from mec_platform.iot.model import LOCAL_PLATFORM_ID, local_platform
from mec_platform.iot.wire import (
    DEVICE_ATTRIBUTES,
    PLATFORM_ATTRIBUTES,
    boolean_filter,
    check_fields,
    device_from_wire,
    device_to_wire,
    platform_from_wire,
    platform_to_wire,
)

RULE = {
    "trafficRuleId": "r1",
    "filterType": "FLOW",
    "priority": 1,
    "trafficFilter": [{"dstPort": ["1883"]}],
    "action": "PASSTHROUGH",
    "dstInterface": {"interfaceType": "IP", "dstIPAddress": "10.0.0.2"},
}
FULL_DEVICE: dict[str, Any] = {
    "deviceAuthenticationInfo": "psk:abc",
    "deviceMetadata": [{"key": "room", "value": "lab"}, {"key": "bare"}],
    "gpsi": "msisdn-123",
    "pei": "imei-1",
    "supi": "imsi-2",
    "msisdn": "123",
    "imei": "4",
    "imsi": "5",
    "iccid": "6",
    "deviceId": "dev-1",
    "requestedMecTrafficRule": [RULE],
    "requestedIotPlatformId": "p1",
    "requestedUserTransportId": "t1",
    "deviceSpecificMessageFormats": {
        "uplinkMsgFormat": {"uplinkTopic": "up", "selectedSerializer": "JSON"}
    },
    "downlinkInfo": {"downlinkTopic": "down", "devicePort": 5683},
    "clientCertificate": "-----BEGIN CERTIFICATE-----",
    "enabled": True,
}
TRANSPORT = {
    "id": "t1",
    "name": "broker",
    "description": "the farm broker",
    "type": "MB_TOPIC_BASED",
    "protocol": "MQTT",
    "version": "5.0",
    "endpoint": {"addresses": [{"host": "broker.example", "port": 8883}]},
    "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"]}},
    "implSpecificInfo": {"uplinkTopics": ["up/#"]},
}
SERVICE_TRANSPORT = {**TRANSPORT, "id": "rest", "type": "REST_HTTP", "implSpecificInfo": "v2"}


def test_a_full_device_goes_round_the_wire_unchanged() -> None:
    device = device_from_wire(FULL_DEVICE)
    assert device.identifiers.supi == "imsi-2" and device.traffic_rules == (RULE,)
    assert device_to_wire(device, True) == FULL_DEVICE


def test_a_minimal_device_has_only_the_required_attributes() -> None:
    device = device_from_wire({"deviceId": "d", "deviceAuthenticationInfo": "x"})
    assert device_to_wire(device, False) == {
        "deviceId": "d",
        "deviceAuthenticationInfo": "x",
        "enabled": False,
    }


def test_enabled_sent_by_a_client_is_ignored() -> None:
    device = device_from_wire({"deviceId": "d", "deviceAuthenticationInfo": "x", "enabled": True})
    assert device_to_wire(device, False)["enabled"] is False


def test_a_platform_goes_round_the_wire_unchanged() -> None:
    body = {
        "iotPlatformId": "p1",
        "userTransportInfo": [TRANSPORT],
        "customServicesTransportInfo": [SERVICE_TRANSPORT],
        "enabled": False,
    }
    assert platform_to_wire(platform_from_wire(body)) == body


def test_the_built_in_platform_names_the_broker_and_the_topics() -> None:
    body = platform_to_wire(local_platform("192.0.2.7", 1884))
    assert body["iotPlatformId"] == LOCAL_PLATFORM_ID and body["enabled"] is True
    [transport] = body["userTransportInfo"]
    assert transport["id"] == "mqtt" and transport["type"] == "MB_TOPIC_BASED"
    assert (transport["protocol"], transport["version"]) == ("MQTT", "3.1.1")
    assert transport["endpoint"] == {"addresses": [{"host": "192.0.2.7", "port": 1884}]}
    assert transport["security"] == {}
    assert transport["implSpecificInfo"] == {
        "uplinkTopics": ["sensors/+/+"],
        "eventTopics": ["sensors/+/$status"],
        "downlinkTopics": ["apps/+/#"],
    }


@pytest.mark.parametrize(
    "fields",
    [None, [], ["deviceId"], ["deviceMetadata,gpsi", "msisdn"], ["requestedUserTransportId"]],
)
def test_known_device_fields_are_accepted(fields: list[str] | None) -> None:
    check_fields(fields, DEVICE_ATTRIBUTES, "DeviceInfo")


def test_an_unknown_field_is_named() -> None:
    with pytest.raises(InvalidInput, match="'colour' is not an attribute of DeviceInfo"):
        check_fields(["deviceId,colour"], DEVICE_ATTRIBUTES, "DeviceInfo")


def test_the_misspelt_platform_field_of_the_gs_is_accepted() -> None:
    check_fields(["customServiceTransportInfo", "enabled"], PLATFORM_ATTRIBUTES, "X")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(eq,enabled,TRUE)", "(eq,enabled,true)"),
        ("(eq,enabled,False)", "(eq,enabled,false)"),
        ("(in,enabled,TRUE,FALSE)", "(in,enabled,true,false)"),
        (
            "(eq,deviceId,TRUE);(neq,enabled,TRUE)",
            "(eq,deviceId,TRUE);(neq,enabled,true)",
        ),
        (
            "(eq,deviceSpecificMessageFormats/uplinkMsgFormat/includePei,TRUE)",
            "(eq,deviceSpecificMessageFormats/uplinkMsgFormat/includePei,true)",
        ),
        ("(eq,enabled,yes)", "(eq,enabled,yes)"),
        ("nonsense", "nonsense"),
        (None, None),
    ],
)
def test_boolean_values_are_spelt_as_json(expression: str | None, expected: str | None) -> None:
    assert boolean_filter(expression) == expected


def test_the_filter_of_the_gs_selects_enabled_devices() -> None:
    documents = [{"deviceId": "a", "enabled": True}, {"deviceId": "b", "enabled": False}]
    found = apply_filter(documents, boolean_filter("(eq,enabled,TRUE)"))
    assert [d["deviceId"] for d in found] == ["a"]
