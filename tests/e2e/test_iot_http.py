"""MEC 033 IoT API over real HTTP (gunicorn on 127.0.0.1, SQLite and PostgreSQL): devices and
IoT platforms through their whole life, the `enabled` rule, If-Match, the built-in platform,
bad input answered with ProblemDetails (never 500), and who may read or write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft4Validator

from tests.e2e.conftest import Stack, run_stack
from tests.support.net import free_port
from tests.support.processes import REPO, add_app_with_credentials, admin_token
from tests.support.secrets import remember

pytestmark = pytest.mark.e2e

BASE = "/iots/v1"
SPEC = yaml.safe_load((REPO / "specs" / "mec033_iot.yaml").read_text())
RULE = {
    "trafficRuleId": "r1",
    "filterType": "FLOW",
    "priority": 1,
    "trafficFilter": [{"dstPort": ["5683"], "protocol": ["UDP"]}],
    "action": "FORWARD_DECAPSULATED",
    "dstInterface": {"interfaceType": "IP", "dstIPAddress": "10.0.0.2"},
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_valid(body: Any, schema_name: str) -> None:
    """The body matches the named schema of our spec."""
    schema = {"components": SPEC["components"], "$ref": f"#/components/schemas/{schema_name}"}
    Draft4Validator(schema).validate(body)


def assert_problem(response: httpx.Response, status: int, *words: str) -> str:
    """A ProblemDetails answer with `status` whose detail names `words`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"], body
    for word in words:
        assert word in body["detail"], body
    return str(body["detail"])


def device(device_id: Any, **extra: Any) -> dict[str, Any]:
    return {"deviceId": device_id, "deviceAuthenticationInfo": f"psk:{device_id}", **extra}


def transport(transport_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": transport_id,
        "name": "farm broker",
        "type": "MB_TOPIC_BASED",
        "protocol": "MQTT",
        "version": "5.0",
        "endpoint": {"addresses": [{"host": "broker.farm.example", "port": 8883}]},
        "security": {},
        "implSpecificInfo": {"uplinkTopics": ["farm/up/+"]},
        **extra,
    }


def platform(platform_id: str, *transports: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "iotPlatformId": platform_id,
        "userTransportInfo": list(transports) or [transport("t1")],
        "enabled": True,
        **extra,
    }


@pytest.fixture(scope="module")
def mqtt_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory, mqtt_port: int
) -> Iterator[Stack]:
    yield from run_stack(
        module_database_url,
        tmp_path_factory.mktemp("iot"),
        MEC_MQTT_HOST="127.0.0.1",
        MEC_MQTT_PORT=str(mqtt_port),
    )


@pytest.fixture(scope="module")
def api(stack: Stack) -> str:
    return f"{stack.server.root}{BASE}"


def register(stack: Stack, api: str, body: dict[str, Any]) -> httpx.Response:
    response = stack.http.post(f"{api}/registered_devices", json=body)
    assert response.status_code == 201, response.text
    return response


# -- devices ---------------------------------------------------------------------------------
def test_a_device_lives_and_dies(stack: Stack, api: str) -> None:
    device_id = unique("dev")
    body = device(
        device_id,
        requestedIotPlatformId="umec-mqtt",
        requestedUserTransportId="mqtt",
        deviceMetadata=[{"key": "room", "value": "lab"}],
        enabled=False,  # ignored: the platform computes it
    )
    created = register(stack, api, body)
    url = f"{api}/registered_devices/{device_id}"
    assert created.headers["Location"] == url
    assert created.json() == {**body, "enabled": True}
    assert_valid(created.json(), "DeviceInfo")
    etag = created.headers["ETag"]

    read = stack.http.get(url)
    assert read.status_code == 200 and read.json() == created.json()
    assert read.headers["ETag"] == etag
    listed = stack.http.get(f"{api}/registered_devices")
    assert listed.status_code == 200 and created.json() in listed.json()
    for item in listed.json():
        assert_valid(item, "DeviceInfo")

    changed = device(device_id, requestedMecTrafficRule=[RULE])
    updated = stack.http.put(url, json=changed, headers={"If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**changed, "enabled": True}
    assert updated.headers["ETag"] != etag
    stale = stack.http.put(url, json=changed, headers={"If-Match": etag})
    assert_problem(stale, 412, "If-Match")
    unconditional = stack.http.put(url, json=device(device_id))
    assert unconditional.status_code == 200 and unconditional.json()["enabled"] is False

    assert stack.http.delete(url).status_code == 204
    assert_problem(stack.http.get(url), 404, device_id)
    assert_problem(stack.http.delete(url), 404, device_id)


def test_registering_a_taken_id_is_a_conflict(stack: Stack, api: str) -> None:
    device_id = unique("dev")
    register(stack, api, device(device_id))
    again = stack.http.post(f"{api}/registered_devices", json=device(device_id))
    assert_problem(again, 409, device_id)


def test_an_update_must_name_a_registered_device_and_keep_its_id(stack: Stack, api: str) -> None:
    device_id = unique("dev")
    url = f"{api}/registered_devices/{device_id}"
    assert_problem(stack.http.put(url, json=device(device_id)), 404, device_id)
    register(stack, api, device(device_id))
    renamed = stack.http.put(url, json=device(unique("other")))
    assert_problem(renamed, 400, "registeredDeviceId")


def test_the_list_is_filtered(stack: Stack, api: str) -> None:
    on, off = unique("on"), unique("off")
    register(stack, api, device(on, requestedIotPlatformId="umec-mqtt"))
    register(stack, api, device(off, requestedIotPlatformId=unique("nowhere")))
    for expression in ("(eq,enabled,TRUE)", "(eq,enabled,true)"):
        found = stack.http.get(f"{api}/registered_devices", params={"filter": expression})
        assert found.status_code == 200, found.text
        ids = {d["deviceId"] for d in found.json()}
        assert on in ids and off not in ids
    by_id = stack.http.get(f"{api}/registered_devices", params={"filter": f"(eq,deviceId,{off})"})
    assert [d["deviceId"] for d in by_id.json()] == [off]
    none = stack.http.get(f"{api}/registered_devices", params={"filter": "(eq,deviceId,nobody)"})
    assert none.status_code == 200 and none.json() == []


def test_fields_are_accepted_and_checked(stack: Stack, api: str) -> None:
    fields = {"fields": ["deviceId", "deviceMetadata,msisdn"]}
    assert stack.http.get(f"{api}/registered_devices", params=fields).status_code == 200
    wrong = stack.http.get(f"{api}/registered_devices", params={"fields": "colour"})
    assert_problem(wrong, 400, "colour")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"deviceId": "x"}, ["deviceAuthenticationInfo"]),
        (device("a..b"), ["deviceId"]),
        (device("has/slash"), ["deviceId"]),
        (device("x", requestedUserTransportId="mqtt"), ["requestedIotPlatformId"]),
        (device("x", requestedMecTrafficRule=[{**RULE, "action": "SEE_DESCRIPTION"}]), []),
        (device("x", requestedMecTrafficRule=[RULE, RULE]), ["twice"]),
        (device("x", deviceMetadata="room=lab"), []),
        (device("x", deviceMetadata=[{"key": "k"}] * 101), []),
        (device(17), []),
        ([device("x")], []),
    ],
)
def test_bad_devices_are_refused_with_problem_details(
    stack: Stack, api: str, body: Any, words: list[str]
) -> None:
    response = stack.http.post(f"{api}/registered_devices", json=body)
    assert_problem(response, 400, *words)


@pytest.mark.parametrize(
    "params",
    [{"filter": "(eq,enabled"}, {"filter": "(gt,enabled,x)"}, {"filter": "(eq,a,b,c)"}],
)
def test_bad_filters_are_refused(stack: Stack, api: str, params: dict[str, str]) -> None:
    assert_problem(stack.http.get(f"{api}/registered_devices", params=params), 400)


def test_a_body_that_is_not_json_is_refused(stack: Stack, api: str) -> None:
    response = stack.http.post(
        f"{api}/registered_devices", content=b"deviceId=x", headers={"Content-Type": "text/plain"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# -- IoT platforms -------------------------------------------------------------------------
def test_the_built_in_platform_is_the_box_broker(stack: Stack, api: str, mqtt_port: int) -> None:
    listed = stack.http.get(f"{api}/registered_iot_platforms")
    assert listed.status_code == 200, listed.text
    built_in = listed.json()[0]
    assert_valid(built_in, "IotPlatformInfo")
    assert built_in["iotPlatformId"] == "umec-mqtt" and built_in["enabled"] is True
    [broker] = built_in["userTransportInfo"]
    assert broker["endpoint"] == {"addresses": [{"host": "127.0.0.1", "port": mqtt_port}]}
    assert broker["implSpecificInfo"]["uplinkTopics"] == ["sensors/+/+"]
    url = f"{api}/registered_iot_platforms/umec-mqtt"
    read = stack.http.get(url, params={"fields": "userTransportInfo"})
    assert read.status_code == 200 and read.json() == built_in
    assert_problem(stack.http.put(url, json=platform("umec-mqtt")), 403, "umec-mqtt")
    assert_problem(stack.http.delete(url), 403, "umec-mqtt")
    again = stack.http.post(f"{api}/registered_iot_platforms", json=platform("umec-mqtt"))
    assert_problem(again, 409, "umec-mqtt")
    assert stack.http.get(url).status_code == 200


def test_a_platform_lives_and_its_devices_follow(stack: Stack, api: str) -> None:
    platform_id, device_id = unique("farm"), unique("dev")
    body = platform(platform_id, transport("t1"), transport("t2"))
    created = stack.http.post(f"{api}/registered_iot_platforms", json=body)
    assert created.status_code == 201, created.text
    url = f"{api}/registered_iot_platforms/{platform_id}"
    assert created.headers["Location"] == url and created.json() == body
    assert_valid(created.json(), "IotPlatformInfo")
    on_t2 = device(device_id, requestedIotPlatformId=platform_id, requestedUserTransportId="t2")
    assert register(stack, api, on_t2).json()["enabled"] is True

    narrowed = platform(platform_id, transport("t1"))
    etag = created.headers["ETag"]
    updated = stack.http.put(url, json=narrowed, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.json() == narrowed
    assert_problem(stack.http.put(url, json=narrowed, headers={"If-Match": etag}), 412)
    device_url = f"{api}/registered_devices/{device_id}"
    assert stack.http.get(device_url).json()["enabled"] is False

    stack.http.put(url, json=body)
    assert stack.http.get(device_url).json()["enabled"] is True
    assert stack.http.delete(url).status_code == 204
    assert stack.http.get(device_url).json()["enabled"] is False
    assert_problem(stack.http.get(url), 404, platform_id)
    assert_problem(stack.http.delete(url), 404, platform_id)
    assert_problem(stack.http.put(url, json=body), 404, platform_id)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (platform("p", transport("t", type="REST_HTTP")), ["MB_TOPIC_BASED"]),
        (platform("p", transport("t"), transport("t")), ["twice"]),
        (platform("p", transport("t", endpoint={})), ["exactly one"]),
        (platform("p", userTransportInfo=[]), []),
        (platform("a..b"), ["iotPlatformId"]),
        ({"iotPlatformId": "p", "enabled": True}, ["userTransportInfo"]),
        (platform("p", transport("t", implSpecificInfo="text")), []),
    ],
)
def test_bad_platforms_are_refused_with_problem_details(
    stack: Stack, api: str, body: dict[str, Any], words: list[str]
) -> None:
    response = stack.http.post(f"{api}/registered_iot_platforms", json=body)
    assert_problem(response, 400, *words)


def test_a_platform_update_must_keep_its_id(stack: Stack, api: str) -> None:
    platform_id = unique("farm")
    stack.http.post(f"{api}/registered_iot_platforms", json=platform(platform_id))
    url = f"{api}/registered_iot_platforms/{platform_id}"
    assert_problem(stack.http.put(url, json=platform(unique("x"))), 400, "registeredIotPlatformId")


# -- who may do what ---------------------------------------------------------------------------
def test_app_instances_and_viewers_only_read(stack: Stack, api: str) -> None:
    app, secret = add_app_with_credentials(stack.env, unique("iot-app"))
    form = {"grant_type": "client_credentials", "client_id": app, "client_secret": secret}
    granted = httpx.post(f"{stack.server.root}/oauth2/token", data=form, timeout=10)
    assert granted.status_code == 200, granted.text
    tokens = {
        "app": remember(granted.json()["access_token"]),
        "viewer": admin_token(stack.env, unique("iot-viewer"), "viewer"),
    }
    for who, token in tokens.items():
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            assert client.get(f"{api}/registered_devices").status_code == 200, who
            assert client.get(f"{api}/registered_iot_platforms").status_code == 200, who
            refused = client.post(f"{api}/registered_devices", json=device(unique("d")))
            assert_problem(refused, 403)
    anonymous = httpx.get(f"{api}/registered_devices", timeout=10)
    assert_problem(anonymous, 401)
