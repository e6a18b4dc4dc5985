"""Sensors end to end: `serve` with its own Mosquitto, the sensor bridge and the worker; a
simulated sensor publishing with a device account; REST, MEC 011 discovery, threshold and
availability notifications; a broker restart mid-stream; apps' MQTT credentials tried with
a real client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import paho.mqtt.client as mqtt
import pytest

from tests.e2e.conftest import Stack, run_stack
from tests.support.mosquitto import Collector, PlainBroker, Refused, connect
from tests.support.net import free_port
from tests.support.processes import admin
from tests.support.receiver import CallbackReceiver
from tests.support.secrets import remember

pytestmark = pytest.mark.e2e

T = TypeVar("T")
CATEGORY = {
    "href": "http://x/sensors/v1/sensors",
    "id": "sensor",
    "name": "sensor",
    "version": "1.0",
}


def eventually(probe: Callable[[], T | None], timeout: float = 15.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def mqtt_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def sensors(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory, mqtt_port: int
) -> Iterator[Stack]:
    yield from run_stack(
        module_database_url,
        tmp_path_factory.mktemp("sensors"),
        MEC_MQTT_BROKER="managed",
        MEC_MQTT_PORT=str(mqtt_port),
        MEC_SENSOR_SILENCE="2",
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver().start()
    yield server
    server.stop()


def sensors_api(stack: Stack) -> str:
    return f"{stack.server.root}/sensors/v1"


def device(stack: Stack, port: int, sensor: str, **options: Any) -> mqtt.Client:
    made = admin(stack.env, "mqtt", "add-device", sensor)
    assert made.returncode == 0, made.stderr
    password = remember(made.stdout.strip())
    return connect(port, username=sensor, password=password, **options)


def publish(client: mqtt.Client, topic: str, payload: str) -> None:
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout=10)
    assert info.is_published()


def stream(stack: Stack, sensor: str, quantity: str = "temperature") -> dict[str, Any] | None:
    response = stack.http.get(f"{sensors_api(stack)}/sensors/{sensor}/{quantity}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_sensor_becomes_a_service_with_readings_and_notifications(
    sensors: Stack, mqtt_port: int, receiver: CallbackReceiver
) -> None:
    sensor = f"t-{uuid.uuid4().hex[:8]}"
    watcher = sensors.add_app(f"watcher-{sensor}")
    availability = sensors.http.post(
        f"{sensors.api}/applications/{watcher}/subscriptions",
        json={
            "subscriptionType": "SerAvailabilityNotificationSubscription",
            "callbackReference": receiver.url(f"/availability/{sensor}"),
            "filteringCriteria": {"serNames": [f"sensors/{sensor}/temperature"]},
        },
    )
    assert availability.status_code == 201, availability.text
    threshold = sensors.http.post(
        f"{sensors_api(sensors)}/subscriptions",
        json={
            "callbackReference": receiver.url(f"/threshold/{sensor}"),
            "criteria": {"sensorId": sensor, "above": 30},
        },
    )
    assert threshold.status_code == 201, threshold.text
    assert threshold.headers["Location"].endswith(threshold.json()["subscriptionId"])

    client = device(sensors, mqtt_port, sensor)
    publish(client, f"sensors/{sensor}/temperature", '{"value": 25.0, "unit": "Cel"}')
    publish(client, f"sensors/{sensor}/temperature", "31.5")
    found = eventually(
        lambda: (stream(sensors, sensor) or {}).get("value") == 31.5, what="latest value 31.5"
    )
    assert found
    latest = stream(sensors, sensor)
    assert latest is not None and latest["state"] == "ACTIVE" and latest["unit"] == "Cel"
    services = sensors.http.get(
        f"{sensors.api}/services", params={"ser_name": f"sensors/{sensor}/temperature"}
    ).json()
    assert len(services) == 1 and services[0]["serCategory"]["id"] == "sensor"
    assert services[0]["transportInfo"]["protocol"] == "MQTT"
    device_info = sensors.http.get(f"{sensors.server.root}/iots/v1/registered_devices/{sensor}")
    assert device_info.status_code == 200, device_info.text
    assert device_info.json()["enabled"] is True
    notified = eventually(lambda: receiver.bodies(f"/threshold/{sensor}"), what="threshold")
    assert [n["value"] for n in notified] == [31.5]
    # Silence beyond its 2 s: SUSPENDED, and the availability subscriber is told.
    eventually(
        lambda: (stream(sensors, sensor) or {}).get("state") == "SUSPENDED",
        what="SUSPENDED after silence",
    )
    states = eventually(
        lambda: [
            ref["state"]
            for body in receiver.bodies(f"/availability/{sensor}")
            for ref in body["serviceReferences"]
            if ref["state"] == "SUSPENDED"
        ],
        what="SUSPENDED availability notification",
    )
    assert states == ["SUSPENDED"]
    publish(client, f"sensors/{sensor}/temperature", "20")
    eventually(lambda: (stream(sensors, sensor) or {}).get("state") == "ACTIVE", what="ACTIVE")
    metrics = httpx.get(f"{sensors.server.root}/metrics").text
    assert 'mec_sensor_messages_total{outcome="accepted"}' in metrics
    history = sensors.http.get(
        f"{sensors_api(sensors)}/sensors/{sensor}/temperature/readings", params={"limit": 10}
    ).json()
    assert [r["value"] for r in history] == [20.0, 31.5, 25.0]
    client.disconnect()


WILL_SCRIPT = """
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="will-" + user)
c.username_pw_set(user, password)
c.will_set(f"sensors/{user}/$status", "offline", qos=1, retain=True)
c.connect("127.0.0.1", port)
c.loop_start()
c.publish(f"sensors/{user}/$status", "online", qos=1, retain=True).wait_for_publish()
c.publish(f"sensors/{user}/humidity", "40", qos=1).wait_for_publish()
print("up", flush=True)
time.sleep(60)
"""


def test_a_last_will_suspends_the_sensor(sensors: Stack, mqtt_port: int) -> None:
    sensor = f"w-{uuid.uuid4().hex[:8]}"
    made = admin(sensors.env, "mqtt", "add-device", sensor)
    password = remember(made.stdout.strip())
    child = subprocess.Popen(
        [sys.executable, "-c", WILL_SCRIPT, str(mqtt_port), sensor, password],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"up"
        eventually(lambda: stream(sensors, sensor, "humidity"), what="humidity stream")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    eventually(
        lambda: (stream(sensors, sensor, "humidity") or {}).get("state") == "SUSPENDED",
        timeout=5,
        what="SUSPENDED after the last will",
    )


def broker_pid(stack: Stack) -> int:
    folder = Path(stack.env["MEC_DATA_DIR"]) / "mqtt"
    out = subprocess.run(["pgrep", "-f", f"mosquitto -c {folder}"], capture_output=True, text=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 1, out
    return pids[0]


def test_a_broker_restart_mid_stream_loses_no_acknowledged_message(
    sensors: Stack, mqtt_port: int
) -> None:
    sensor = f"r-{uuid.uuid4().hex[:8]}"
    client = device(sensors, mqtt_port, sensor, client_id=f"pub-{sensor}", clean_session=False)
    acked: set[int] = set()
    values: dict[int, int] = {}
    lock = threading.Lock()

    def on_publish(_c: Any, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        with lock:
            if mid in values:
                acked.add(values[mid])

    client.on_publish = on_publish
    base = time.time() - 1000
    total = 600
    for value in range(total):
        with lock:
            info = client.publish(
                f"sensors/{sensor}/count", f'{{"value": {value}, "time": {base + value}}}', qos=1
            )
            values[info.mid] = value
        if value == total // 3:
            os.kill(broker_pid(sensors), signal.SIGTERM)
        time.sleep(0.005)
    eventually(lambda: len(acked) == total, timeout=60, what="every message acknowledged")

    def stored() -> set[int] | None:
        response = sensors.http.get(
            f"{sensors_api(sensors)}/sensors/{sensor}/count/readings", params={"limit": 10000}
        )
        got = {int(r["value"]) for r in response.json()} if response.status_code == 200 else set()
        return got if acked <= got else None

    eventually(stored, timeout=60, what="every acknowledged message stored")
    client.disconnect()


def credentials(stack: Stack, app: str) -> httpx.Response:
    return stack.http.post(f"{sensors_api(stack)}/applications/{app}/mqtt_credentials")


def test_app_credentials_allow_and_deny_exactly_their_topics(
    sensors: Stack, mqtt_port: int
) -> None:
    mine, other = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    sensor_mine, sensor_other = device(sensors, mqtt_port, mine), device(sensors, mqtt_port, other)
    for client, name in ((sensor_mine, mine), (sensor_other, other)):
        publish(client, f"sensors/{name}/temperature", "1")
        eventually(lambda name=name: stream(sensors, name), what=f"stream {name}")
    app = sensors.add_app(f"reader-{mine}")
    registered = sensors.http.post(
        f"{sensors.app_api}/registrations",
        json={
            "appInstanceId": app,
            "appName": "reader",
            "appServiceRequired": [{"serName": f"sensors/{mine}/temperature", "version": "1.0"}],
        },
    )
    assert registered.status_code == 201, registered.text
    issued = credentials(sensors, app)
    assert issued.status_code == 201, issued.text
    config = issued.json()
    remember(config["password"])
    assert config["readTopics"] == [f"sensors/{mine}/temperature"]
    assert config["readWriteTopics"] == [f"apps/{app}/#"]
    shown = sensors.http.get(f"{sensors_api(sensors)}/applications/{app}/mqtt_configuration")
    assert shown.status_code == 200 and "password" not in shown.json()

    with pytest.raises(Refused):
        connect(mqtt_port)
    with pytest.raises(Refused):
        connect(mqtt_port, username=app, password="wrong")
    reader = eventually(
        lambda: _try_connect(mqtt_port, app, config["password"]), what="app connects"
    )
    inbox = Collector(
        reader, [f"sensors/{mine}/temperature", f"sensors/{other}/temperature", f"apps/{app}/#"]
    )
    publish(sensor_other, f"sensors/{other}/temperature", "2")
    publish(sensor_mine, f"sensors/{mine}/temperature", "3")
    publish(reader, f"apps/{app}/out", "hello")
    publish(reader, f"apps/{other}/out", "not yours")
    inbox.wait_count(2, timeout=5)
    time.sleep(0.3)
    assert [(t, p) for t, p in inbox.messages] == [
        (f"sensors/{mine}/temperature", b"3"),
        (f"apps/{app}/out", b"hello"),
    ]
    revoked = sensors.http.delete(f"{sensors_api(sensors)}/applications/{app}/mqtt_credentials")
    assert revoked.status_code == 204
    eventually(lambda: not reader.is_connected(), timeout=5, what="app disconnected")
    assert _try_connect(mqtt_port, app, config["password"]) is None


def _try_connect(port: int, user: str, password: str) -> mqtt.Client | None:
    try:
        return connect(port, username=user, password=password)
    except Refused:
        return None


def test_bad_requests_get_problem_details(sensors: Stack) -> None:
    api = sensors_api(sensors)
    cases = [
        sensors.http.get(f"{api}/sensors/nope/temperature"),
        sensors.http.get(f"{api}/sensors/nope/temperature/readings", params={"limit": 0}),
        sensors.http.post(
            f"{api}/subscriptions", json={"callbackReference": "http://x/cb", "criteria": {}}
        ),
        sensors.http.post(f"{api}/subscriptions", json={"criteria": {"above": 1}}),
        sensors.http.get(f"{api}/subscriptions/none"),
        sensors.http.post(f"{api}/applications/unknown-app/mqtt_credentials"),
    ]
    assert [c.status_code for c in cases] == [404, 400, 400, 400, 404, 404]
    for response in cases:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code


def test_sensor_data_leaves_the_box_in_order_across_an_upstream_outage(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "box").mkdir()
    upstream = PlainBroker(tmp_path / "upstream").start()
    # A persistent session: the upstream keeps what arrives while the watcher reconnects.
    watcher_id = f"watcher-{uuid.uuid4().hex[:8]}"
    watcher = connect(upstream.port, client_id=watcher_id, clean_session=False)
    inbox = Collector(watcher, ["box/#"])
    port = free_port()
    stack_runs = run_stack(
        database_url,
        tmp_path / "box",
        MEC_MQTT_BROKER="managed",
        MEC_MQTT_PORT=str(port),
        MEC_EXPORT_URL=f"mqtt://127.0.0.1:{upstream.port}",
        MEC_EXPORT_PREFIX="box/",
    )
    try:
        stack = next(stack_runs)
        sensor = f"x-{uuid.uuid4().hex[:6]}"
        client = device(stack, port, sensor)
        exports_url = f"{sensors_api(stack)}/exports"
        eventually(
            lambda: [e for e in stack.http.get(exports_url).json() if e["connected"]],
            timeout=45,
            what="the export connected",
        )
        for value in range(20):
            publish(client, f"sensors/{sensor}/temperature", str(value))
        inbox.wait_count(20, timeout=45)
        upstream.stop()
        for value in range(20, 60):
            publish(client, f"sensors/{sensor}/temperature", str(value))
        waiting = eventually(
            lambda: [e for e in stack.http.get(exports_url).json() if e["backlog"] >= 40],
            timeout=45,
            what="a backlog of 40 while the upstream is down",
        )
        assert waiting[0]["upstream"] == f"mqtt://127.0.0.1:{upstream.port}"
        watcher.disconnect()
        upstream.start()
        inbox = Collector()
        watcher = connect(
            upstream.port, client_id=watcher_id, clean_session=False, on_message=inbox.on_message
        )
        got = eventually(
            lambda: {int(p) for _t, p in inbox.messages} >= set(range(20, 60)) and inbox.messages,
            timeout=60,
            what="the backlog delivered",
        )
        first_seen: list[int] = []
        for _topic, payload in got:
            if int(payload) >= 20 and int(payload) not in first_seen:
                first_seen.append(int(payload))
        assert first_seen == list(range(20, 60))
        eventually(
            lambda: [e for e in stack.http.get(exports_url).json() if e["backlog"] == 0],
            timeout=45,
            what="an empty backlog",
        )
        client.disconnect()
    finally:
        stack_runs.close()
        watcher.disconnect()
        upstream.stop()
