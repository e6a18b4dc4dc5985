"""The sensor bridge's use cases on real SQLite and PostgreSQL, wired as the bridge wires
them: readings stored once, streams as MEC 011 services, threshold notifications in the
outbox, silence and last will suspending, forgetting, history bounds, app MQTT accounts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mec_platform.appsupport.wire import app_info_from_wire
from mec_platform.bootstrap import Platform, bootstrap
from mec_platform.config import Settings
from mec_platform.errors import InvalidInput, NotFound
from mec_platform.registry.model import FilteringCriteria, ServiceQuery, ServiceState
from mec_platform.sensors.app_mqtt import container_environment
from mec_platform.sensors.ingest import Message
from mec_platform.sensors.model import Reading, SensorState, ThresholdCriteria
from mec_platform.sensors.mqtt_accounts import enforced_accounts
from mec_platform.storage.tables import outbox


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Platform]:
    settings = Settings.from_env(
        {
            "MEC_DATA_DIR": str(tmp_path),
            "MEC_DATABASE_URL": database_url,
            "MEC_SENSOR_SILENCE": "30",
        }
    )
    wired = bootstrap(settings, clock=clock)
    wired.sensor_ingest.ensure_bridge_app()
    try:
        yield wired
    finally:
        wired.close()


def sid() -> str:
    return f"s-{uuid.uuid4().hex[:8]}"


def message(sensor: str, value: float, at: float, quantity: str = "temperature") -> Message:
    return Message(sensor, (Reading(quantity, value, "Cel", at),), at)


def payloads(platform: Platform) -> list[dict[str, object]]:
    with platform.engine.connect() as conn:
        return [json.loads(row.payload) for row in conn.execute(select(outbox.c.payload))]


def test_a_first_message_makes_a_stream_a_service_and_a_reading(platform: Platform) -> None:
    sensor = sid()
    result = platform.sensor_ingest.ingest(
        [message(sensor, 21.5, 1_800_000_000.0)], {"accepted": 1}
    )
    assert result.stored == 1 and result.new_streams == [(sensor, "temperature")]
    stream = platform.sensors.get_sensor(sensor, "temperature")
    assert (stream.value, stream.unit, stream.state) == (21.5, "Cel", SensorState.ACTIVE)
    service = platform.registry.get_service(stream.ser_instance_id or "")
    assert service.ser_name == f"sensors/{sensor}/temperature"
    assert service.ser_category is not None and service.ser_category.id == "sensor"
    assert service.transport_info.protocol == "MQTT"
    assert service.transport_info.impl_specific_info is not None
    assert service.transport_info.impl_specific_info["topic"] == f"sensors/{sensor}/temperature"
    found = platform.registry.discover(ServiceQuery(ser_names=(service.ser_name,)))
    assert [s.ser_instance_id for s in found] == [service.ser_instance_id]


def test_a_redelivered_message_is_stored_once(platform: Platform) -> None:
    sensor = sid()
    batch = [message(sensor, 1.0, 1_800_000_001.0), message(sensor, 2.0, 1_800_000_002.0)]
    platform.sensor_ingest.ingest(batch)
    again = platform.sensor_ingest.ingest(batch[1:])
    assert (again.stored, again.duplicates) == (0, 1)
    values = [r.value for r in platform.sensors.readings(sensor, "temperature", None, None, 10)]
    assert values == [2.0, 1.0]


def test_an_older_message_never_replaces_the_latest_value(platform: Platform) -> None:
    sensor = sid()
    platform.sensor_ingest.ingest([message(sensor, 5.0, 1_800_000_010.0)])
    platform.sensor_ingest.ingest([message(sensor, 4.0, 1_800_000_005.0)])
    assert platform.sensors.get_sensor(sensor, "temperature").value == 5.0


def test_thresholds_notify_on_crossing_not_on_every_reading(platform: Platform) -> None:
    sensor, other = sid(), sid()
    sub = platform.sensors.subscribe(
        "alice", "http://127.0.0.1:9/cb", ThresholdCriteria(sensor_id=sensor, above=30.0), None
    )
    ingest = platform.sensor_ingest.ingest
    ingest([message(sensor, 25.0, 1_800_000_001.0)])
    ingest([message(sensor, 31.0, 1_800_000_002.0), message(sensor, 32.0, 1_800_000_003.0)])
    ingest([message(other, 99.0, 1_800_000_004.0)])
    ingest([message(sensor, 29.0, 1_800_000_005.0)])
    ingest([message(sensor, 35.0, 1_800_000_006.0)])
    mine = [p for p in payloads(platform) if p.get("subscriptionId") == sub.subscription_id]
    assert [p["value"] for p in mine] == [31.0, 35.0]
    assert mine[0]["notificationType"] == "SensorThresholdNotification"
    assert mine[0]["sensorId"] == sensor


def test_silence_suspends_and_the_next_message_reactivates(
    platform: Platform, clock: Clock
) -> None:
    sensor = sid()
    platform.sensor_ingest.ingest([message(sensor, 1.0, clock.now)])
    stream = platform.sensors.get_sensor(sensor, "temperature")
    watcher = platform.registry.add_app_instance("watcher")
    platform.registry.subscribe(
        watcher.app_instance_id,
        "http://127.0.0.1:9/availability",
        FilteringCriteria(ser_instance_ids=(stream.ser_instance_id or "",)),
    )
    clock.now += 29
    assert platform.sensor_ingest.sweep() == 0
    clock.now += 2
    assert platform.sensor_ingest.sweep() == 1
    assert platform.sensors.get_sensor(sensor, "temperature").state is SensorState.SUSPENDED
    service = platform.registry.get_service(stream.ser_instance_id or "")
    assert service.state is ServiceState.SUSPENDED
    changes = [
        p for p in payloads(platform) if p.get("notificationType") == "SerAvailabilityNotification"
    ]
    assert changes and changes[-1]["serviceReferences"][0]["state"] == "SUSPENDED"
    platform.sensor_ingest.ingest([message(sensor, 2.0, clock.now)])
    assert platform.sensors.get_sensor(sensor, "temperature").state is SensorState.ACTIVE
    assert platform.registry.get_service(service.ser_instance_id).state is ServiceState.ACTIVE


def test_a_last_will_suspends_every_stream_of_the_sensor(platform: Platform, clock: Clock) -> None:
    sensor = sid()
    platform.sensor_ingest.ingest(
        [message(sensor, 1.0, clock.now), message(sensor, 50.0, clock.now, "humidity")]
    )
    assert platform.sensor_ingest.set_online(sensor, False) == 2
    states = {s.quantity: s.state for s in platform.sensors.list_sensors(sensor, None, None)}
    assert states == {"temperature": SensorState.SUSPENDED, "humidity": SensorState.SUSPENDED}


def test_forgetting_withdraws_the_service_and_a_new_message_brings_it_back(
    platform: Platform, clock: Clock
) -> None:
    sensor = sid()
    platform.sensor_ingest.ingest([message(sensor, 1.0, clock.now)])
    before = platform.sensors.get_sensor(sensor, "temperature").ser_instance_id or ""
    platform.sensors.forget_sensor(sensor, "temperature")
    with pytest.raises(NotFound):
        platform.registry.get_service(before)
    # The ingest still believes in the stream it cached: the batch goes round again uncached.
    result = platform.sensor_ingest.ingest([message(sensor, 2.0, clock.now + 1)])
    assert result.new_streams == [(sensor, "temperature")]
    assert platform.sensors.get_sensor(sensor, "temperature").value == 2.0


def test_an_announcement_creates_streams_before_any_reading(platform: Platform) -> None:
    sensor = sid()
    created = platform.sensor_ingest.announce(sensor, {"co2": "ppm", "temperature": "Cel"}, 120)
    assert sorted(created) == [(sensor, "co2"), (sensor, "temperature")]
    stream = platform.sensors.get_sensor(sensor, "co2")
    assert (stream.value, stream.unit, stream.silence_interval) == (None, "ppm", 120)
    assert platform.sensor_ingest.announce(sensor, {"co2": "ppm"}, None) == []


def test_history_is_bounded_and_windowed(platform: Platform) -> None:
    sensor = sid()
    base = 1_800_000_000.0
    platform.sensor_ingest.ingest([message(sensor, float(i), base + i) for i in range(30)])
    window = platform.sensors.readings(sensor, "temperature", base + 10, base + 19, 5)
    assert [r.value for r in window] == [19.0, 18.0, 17.0, 16.0, 15.0]
    with pytest.raises(InvalidInput):
        platform.sensors.readings(sensor, "temperature", base + 5, base, 5)
    platform.sensor_ingest._options = type(platform.sensor_ingest._options)(30, 10)
    assert platform.sensor_ingest.prune() >= 20
    kept = platform.sensors.readings(sensor, "temperature", None, None, 100)
    assert [r.value for r in kept] == [float(i) for i in range(29, 19, -1)]


def test_app_mqtt_accounts_follow_the_app(platform: Platform, clock: Clock) -> None:
    sensor = sid()
    platform.sensor_ingest.ingest([message(sensor, 1.0, clock.now)])
    created = platform.apps.add_app_instance(f"app-{sensor}")
    app_id = created.app.app_instance_id
    required = [{"serName": f"sensors/{sensor}/temperature", "version": "1.0"}]
    platform.apps.register(
        app_info_from_wire({"appName": "reader", "appServiceRequired": required}), app_id
    )
    # An AppD may also name sensors with wildcards (kept with the account).
    issued = platform.app_mqtt.issue_credentials(app_id, ["sensors/+/co2", "camera"])
    assert issued.password and issued.username == app_id
    assert issued.read_topics == ("sensors/+/co2", f"sensors/{sensor}/temperature")
    assert issued.read_write_topics == (f"apps/{app_id}/#",)
    assert platform.app_mqtt.configuration(app_id).password is None
    # A new password through the API keeps the topics declared before.
    again = platform.app_mqtt.issue_credentials(app_id)
    assert again.read_topics == issued.read_topics and again.password != issued.password
    with platform.uows() as uow:
        names = {a.username for a in enforced_accounts(uow)}
    assert app_id in names
    platform.apps.remove_app_instance(app_id)
    with platform.uows() as uow:
        names = {a.username for a in enforced_accounts(uow)}
    assert app_id not in names


def test_device_and_operator_accounts(platform: Platform) -> None:
    sensor = sid()
    password = platform.mqtt_accounts.add_device(sensor)
    assert len(password) >= 20
    platform.mqtt_accounts.add_operator(f"op-{sensor}", ["sensors/#"])
    with pytest.raises(InvalidInput):
        platform.mqtt_accounts.add_device("bad/#")
    with pytest.raises(InvalidInput):
        platform.mqtt_accounts.add_operator(f"op2-{sensor}", ["a/#/b"])
    kinds = {a.username: a.kind for a in platform.mqtt_accounts.list()}
    assert kinds[sensor] == "device" and kinds[f"op-{sensor}"] == "operator"
    platform.mqtt_accounts.remove(sensor)
    with pytest.raises(NotFound):
        platform.mqtt_accounts.remove(sensor)


def test_an_instantiated_app_is_told_its_mqtt_access_in_its_environment(
    platform: Platform,
) -> None:
    created = platform.apps.add_app_instance(f"lcm-{sid()}")
    app_id = created.app.app_instance_id
    environment = container_environment(platform.app_mqtt, "10.89.0.1")
    appd = {"appServiceRequired": [{"serName": "sensors/+/co2", "version": "1.0"}]}
    env = environment(app_id, appd)
    assert env["MEC_MQTT_HOST"] == "10.89.0.1"
    assert env["MEC_MQTT_USERNAME"] == app_id and len(env["MEC_MQTT_PASSWORD"]) >= 20
    assert env["MEC_MQTT_TOPIC_PREFIX"] == f"apps/{app_id}/"
    assert env["MEC_MQTT_READ_TOPICS"] == "sensors/+/co2"
    # An id that cannot be a topic level gets no MQTT access, and the instantiation goes on.
    odd = platform.apps.add_app_instance("odd", app_instance_id=f"a+{sid()}").app
    assert environment(odd.app_instance_id, appd) == {}
