"""MEC 033 IoT storage on real SQLite and PostgreSQL: devices and IoT platforms round the
database, the use cases over the SQL unit of work, the sensor bridge's hook inside a
transaction, concurrent registrations of one id, and migration 0006.

The tests share one database per backend and use unique ids; the migration test has its own.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from mec_platform.errors import Conflict
from mec_platform.iot.model import (
    LOCAL_PLATFORM_ID,
    Device,
    DeviceIdentifiers,
    DeviceSource,
    IotPlatform,
    MetadataEntry,
    Transport,
    local_platform,
)
from mec_platform.iot.ports import IotUnitOfWork
from mec_platform.iot.service import IotRegistry, record_sensor_device
from mec_platform.storage.engine import make_engine
from mec_platform.storage.iot_tables import iot_devices, iot_platforms
from mec_platform.storage.migrate import MIGRATIONS_DIR, upgrade
from mec_platform.storage.tables import metadata
from mec_platform.storage.uow import SqlUnitOfWorkFactory

IOT_TABLES = {"iot_devices", "iot_platforms"}
NOW = 1_700_000_000.25
RULE: dict[str, Any] = {
    "trafficRuleId": "r1",
    "filterType": "PACKET",
    "priority": 3,
    "trafficFilter": [{"srcAddress": ["10.0.0.0/24"], "qCI": 9}],
    "action": "DROP",
}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def uows(module_database_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = make_engine(module_database_url)
    try:
        upgrade(engine)
        yield SqlUnitOfWorkFactory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def iot(uows: SqlUnitOfWorkFactory) -> IotRegistry:
    return IotRegistry(uows, lambda: NOW, local_platform("127.0.0.1", 1883))


def write(uows: SqlUnitOfWorkFactory) -> IotUnitOfWork:
    """A write unit of work, typed as the port the use cases see."""
    return uows(write=True)


def transport(transport_id: str, info: dict[str, Any] | str | None) -> Transport:
    return Transport(
        id=transport_id,
        name="broker ✓",
        type="MB_TOPIC_BASED",
        protocol="MQTT",
        version="5.0",
        endpoint={"addresses": [{"host": "b.example", "port": 8883}]},
        security={"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"]}},
        description="farm broker",
        impl_specific_info=info,
    )


def full_device(device_id: str) -> Device:
    return Device(
        device_id=device_id,
        authentication_info="psk:ü",
        identifiers=DeviceIdentifiers(gpsi="g", imei="", iccid="8901"),
        metadata=(
            MetadataEntry("room", "lab"),
            MetadataEntry(None, "bare"),
            MetadataEntry("k", None),
        ),
        traffic_rules=(RULE,),
        iot_platform_id="farm",
        user_transport_id="t1",
        message_formats={"eventMsgFormat": {"eventTopic": "ev", "selectedSerializer": "XML"}},
        downlink_info={"downlinkTopic": "down", "devicePort": 5683},
        client_certificate="-----BEGIN CERTIFICATE-----\nMII\n",
        source=DeviceSource.SENSOR,
        revision=4,
        created_at=NOW,
    )


# -- repositories ----------------------------------------------------------------------------
def test_a_device_round_trips_every_field(uows: SqlUnitOfWorkFactory) -> None:
    device = full_device(uid("dev"))
    with write(uows) as uow:
        assert uow.iot_devices.add(device) is True
        uow.commit()
    with uows() as uow:
        assert uow.iot_devices.get(device.device_id) == device
        assert uow.iot_devices.get(uid("none")) is None


def test_a_minimal_device_round_trips(uows: SqlUnitOfWorkFactory) -> None:
    device = Device(uid("dev"), "x", created_at=NOW)
    with write(uows) as uow:
        uow.iot_devices.add(device)
        uow.commit()
    with uows() as uow:
        assert uow.iot_devices.get_for_update(device.device_id) == device


def test_adding_a_taken_id_changes_nothing(uows: SqlUnitOfWorkFactory) -> None:
    device = Device(uid("dev"), "first", created_at=NOW)
    with write(uows) as uow:
        assert uow.iot_devices.add(device)
        assert not uow.iot_devices.add(Device(device.device_id, "second"))
        # The transaction is still usable after the refused insert.
        assert uow.iot_devices.get(device.device_id) == device
        uow.commit()


def test_devices_are_updated_listed_and_removed(uows: SqlUnitOfWorkFactory) -> None:
    ids = sorted(uid("dev") for _ in range(3))
    with write(uows) as uow:
        for device_id in reversed(ids):
            uow.iot_devices.add(Device(device_id, "x", created_at=NOW))
        uow.iot_devices.update(Device(ids[0], "y", revision=2, created_at=NOW))
        uow.commit()
    with write(uows) as uow:
        mine = [d for d in uow.iot_devices.all() if d.device_id in ids]
        assert [d.device_id for d in mine] == ids
        assert mine[0].authentication_info == "y" and mine[0].revision == 2
        assert uow.iot_devices.remove(ids[1]) is True
        assert uow.iot_devices.remove(ids[1]) is False
        uow.commit()


def test_a_platform_round_trips(uows: SqlUnitOfWorkFactory) -> None:
    platform = IotPlatform(
        uid("plat"),
        (transport("t1", {"uplinkTopics": ["up/#"]}), transport("t2", None)),
        enabled=False,
        custom_services_transports=(transport("rest", "free text"),),
        revision=3,
        created_at=NOW,
    )
    with write(uows) as uow:
        assert uow.iot_platforms.add(platform)
        assert not uow.iot_platforms.add(platform)
        uow.commit()
    with write(uows) as uow:
        assert uow.iot_platforms.get(platform.iot_platform_id) == platform
        assert platform in uow.iot_platforms.all()
        changed = IotPlatform(
            platform.iot_platform_id, (transport("t9", {}),), True, revision=4, created_at=NOW
        )
        uow.iot_platforms.update(changed)
        assert uow.iot_platforms.get_for_update(platform.iot_platform_id) == changed
        assert uow.iot_platforms.remove(platform.iot_platform_id)
        assert not uow.iot_platforms.remove(platform.iot_platform_id)
        uow.commit()


# -- use cases over SQL ----------------------------------------------------------------------
def test_enabled_follows_the_platforms_registered(iot: IotRegistry) -> None:
    farm = uid("farm")
    iot.register_platform(IotPlatform(farm, (transport("t1", {}),), enabled=True))
    on_farm = Device(uid("dev"), "x", iot_platform_id=farm, user_transport_id="t1")
    local = Device(uid("dev"), "x", iot_platform_id=LOCAL_PLATFORM_ID)
    assert iot.register_device(on_farm)[1] and iot.register_device(local)[1]
    iot.deregister_platform(farm)
    views = {d.device_id: enabled for d, enabled in iot.devices()}
    assert (views[on_farm.device_id], views[local.device_id]) == (False, True)
    assert iot.device(on_farm.device_id)[1] is False


def test_the_bridge_records_sensors_inside_its_transaction(
    uows: SqlUnitOfWorkFactory, iot: IotRegistry
) -> None:
    sensor = uid("sensor")
    with write(uows) as uow:
        record_sensor_device(uow, sensor, {"temperature": "Cel"}, NOW)
        record_sensor_device(uow, sensor, {"humidity": None}, NOW)
        uow.commit()
    with write(uows) as uow:
        record_sensor_device(uow, sensor, {"humidity": "%RH"}, NOW)
        # Rolled back: nothing of it may remain.
    stored, enabled = iot.device(sensor)
    assert enabled and stored.source is DeviceSource.SENSOR and stored.revision == 2
    assert stored.metadata == (
        MetadataEntry("quantity", "temperature [Cel]"),
        MetadataEntry("quantity", "humidity"),
    )


def test_concurrent_registrations_of_one_id_give_one_device(iot: IotRegistry) -> None:
    device_id = uid("race")
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def register(n: int) -> None:
        barrier.wait()
        try:
            iot.register_device(Device(device_id, f"writer-{n}"))
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=register, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["created"]


def test_the_bridge_and_an_api_client_racing_for_a_sensor(
    uows: SqlUnitOfWorkFactory, iot: IotRegistry
) -> None:
    """Whoever wins, the device exists once and neither transaction fails."""
    sensor = uid("sensor")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def bridge() -> None:
        barrier.wait()
        with write(uows) as uow:
            record_sensor_device(uow, sensor, {"temperature": "Cel"}, NOW)
            uow.commit()

    def client() -> None:
        barrier.wait()
        with contextlib.suppress(Conflict):
            iot.register_device(Device(sensor, "psk:x"))

    def guarded(target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(f,)) for f in (bridge, client)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = iot.device(sensor)[0]
    assert MetadataEntry("quantity", "temperature [Cel]") in stored.metadata


# -- schema and migration --------------------------------------------------------------------
def test_the_iot_tables_match_the_migrated_schema(uows: SqlUnitOfWorkFactory) -> None:
    inspector = inspect(uows.engine)
    assert {iot_devices.name, iot_platforms.name} <= set(metadata.tables)
    for table in (iot_devices, iot_platforms):
        columns = [column["name"] for column in inspector.get_columns(table.name)]
        assert columns == [column.name for column in table.columns], table.name
        keys = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert keys == [column.name for column in table.primary_key], table.name


def _alembic(engine: Engine, step: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, step)(config, revision)


def test_migration_0006_upgrades_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _alembic(engine, "upgrade", "0005")
        assert not IOT_TABLES & set(inspect(engine).get_table_names())
        _alembic(engine, "upgrade", "0006")
        assert set(inspect(engine).get_table_names()) >= IOT_TABLES
        _alembic(engine, "downgrade", "0005")
        assert not IOT_TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= IOT_TABLES
    finally:
        engine.dispose()
