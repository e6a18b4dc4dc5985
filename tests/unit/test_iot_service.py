"""MEC 033 use cases on in-memory doubles of the IoT ports: the `enabled` rule, device and
platform registration, updates with If-Match, the built-in platform, and the sensor bridge's
hook that registers sensors as devices."""

from __future__ import annotations

import copy
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

import pytest

from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from mec_platform.iot.model import (
    LOCAL_PLATFORM_ID,
    Device,
    DeviceSource,
    IotPlatform,
    MetadataEntry,
    Transport,
    check_id,
    is_enabled,
    local_platform,
)
from mec_platform.iot.service import IotRegistry, merge_quantities, record_sensor_device

NOW = 1_700_000_000.0
RULE = {"trafficRuleId": "r", "filterType": "FLOW", "priority": 1, "trafficFilter": []}


# -- in-memory doubles of mec_platform.iot.ports ---------------------------------------------
class InMemoryIotStore:
    """The committed state."""

    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.platforms: dict[str, IotPlatform] = {}
        self.writes = 0


class InMemoryDevices:
    def __init__(self, rows: dict[str, Device], uow: InMemoryIotUnitOfWork) -> None:
        self._rows, self._uow = rows, uow

    def add(self, device: Device) -> bool:
        if device.device_id in self._rows:
            return False
        self._rows[device.device_id] = device
        self._uow.wrote()
        return True

    def get(self, device_id: str) -> Device | None:
        return self._rows.get(device_id)

    get_for_update = get

    def all(self) -> list[Device]:
        return [self._rows[key] for key in sorted(self._rows)]

    def update(self, device: Device) -> None:
        self._rows[device.device_id] = device
        self._uow.wrote()

    def remove(self, device_id: str) -> bool:
        self._uow.wrote()
        return self._rows.pop(device_id, None) is not None


class InMemoryPlatforms:
    def __init__(self, rows: dict[str, IotPlatform]) -> None:
        self._rows = rows

    def add(self, platform: IotPlatform) -> bool:
        if platform.iot_platform_id in self._rows:
            return False
        self._rows[platform.iot_platform_id] = platform
        return True

    def get(self, iot_platform_id: str) -> IotPlatform | None:
        return self._rows.get(iot_platform_id)

    get_for_update = get

    def all(self) -> list[IotPlatform]:
        return [self._rows[key] for key in sorted(self._rows)]

    def update(self, platform: IotPlatform) -> None:
        self._rows[platform.iot_platform_id] = platform

    def remove(self, iot_platform_id: str) -> bool:
        return self._rows.pop(iot_platform_id, None) is not None


class InMemoryIotUnitOfWork:
    """Works on a copy of the store and publishes it on commit, like a transaction."""

    def __init__(self, store: InMemoryIotStore) -> None:
        self._store = store
        self._devices = copy.copy(store.devices)
        self._platforms = copy.copy(store.platforms)
        self._writes = 0
        self.iot_devices = InMemoryDevices(self._devices, self)
        self.iot_platforms = InMemoryPlatforms(self._platforms)

    def wrote(self) -> None:
        self._writes += 1

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        self._store.devices, self._store.platforms = self._devices, self._platforms
        self._store.writes += self._writes


class InMemoryIotUnitOfWorkFactory:
    def __init__(self) -> None:
        self.store = InMemoryIotStore()

    def __call__(self, *, write: bool = False) -> InMemoryIotUnitOfWork:
        return InMemoryIotUnitOfWork(self.store)


@pytest.fixture
def uows() -> InMemoryIotUnitOfWorkFactory:
    return InMemoryIotUnitOfWorkFactory()


@pytest.fixture
def iot(uows: InMemoryIotUnitOfWorkFactory) -> IotRegistry:
    return IotRegistry(uows, lambda: NOW, local_platform("127.0.0.1", 1883))


def transport(transport_id: str = "t1", **changes: object) -> Transport:
    made = Transport(
        id=transport_id,
        name="broker",
        type="MB_TOPIC_BASED",
        protocol="MQTT",
        version="3.1.1",
        endpoint={"addresses": [{"host": "b.example", "port": 1883}]},
        security={},
        impl_specific_info={"uplinkTopics": ["up/#"]},
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def platform(platform_id: str = "farm", *transports: Transport) -> IotPlatform:
    return IotPlatform(platform_id, transports or (transport(),), enabled=True)


def device(device_id: str = "dev-1", **changes: object) -> Device:
    return replace(Device(device_id, "psk:x"), **changes)  # type: ignore[arg-type]


# -- the enabled rule ----------------------------------------------------------------------------
PLATFORMS = {"farm": platform("farm", transport("t1"), transport("t2"))}


@pytest.mark.parametrize(
    ("changes", "enabled"),
    [
        ({}, False),
        ({"traffic_rules": (RULE,)}, True),
        ({"traffic_rules": (RULE,), "iot_platform_id": "gone"}, True),
        ({"iot_platform_id": "farm"}, True),
        ({"iot_platform_id": "farm", "user_transport_id": "t2"}, True),
        ({"iot_platform_id": "farm", "user_transport_id": "t9"}, False),
        ({"iot_platform_id": "gone"}, False),
        ({"iot_platform_id": "gone", "user_transport_id": "t1"}, False),
    ],
)
def test_a_device_is_enabled_by_a_valid_traffic_rule(
    changes: dict[str, Any], enabled: bool
) -> None:
    assert is_enabled(device(**changes), PLATFORMS) is enabled


@pytest.mark.parametrize(
    "bad", ["", ".x", "-x", "a..b", "a/b", "a#", "a+", "a$", "a b", "é", "x" * 65]
)
def test_ids_follow_the_sensor_grammar(bad: str) -> None:
    with pytest.raises(InvalidInput, match="deviceId"):
        check_id(bad, "deviceId")


@pytest.mark.parametrize("good", ["a", "A.b_c:d-e", "0" * 64, "urn:dev:1"])
def test_valid_ids_pass(good: str) -> None:
    assert check_id(good, "deviceId") == good


# -- devices ---------------------------------------------------------------------------------
def test_a_device_of_the_built_in_platform_is_enabled(iot: IotRegistry) -> None:
    stored, enabled = iot.register_device(device(iot_platform_id=LOCAL_PLATFORM_ID))
    assert enabled and stored.source is DeviceSource.API
    assert (stored.revision, stored.created_at, stored.etag) == (1, NOW, '"dev-1.1"')
    assert iot.device("dev-1") == (stored, True)
    assert iot.devices() == [(stored, True)]


def test_registering_an_id_twice_is_a_conflict(iot: IotRegistry) -> None:
    iot.register_device(device())
    with pytest.raises(Conflict, match="deviceId"):
        iot.register_device(device(authentication_info="other"))
    assert iot.device("dev-1")[0].authentication_info == "psk:x"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"device_id": "a..b"}, "deviceId"),
        ({"user_transport_id": "t1"}, "requestedUserTransportId"),
        ({"metadata": (MetadataEntry("k", "v"),) * 101}, "deviceMetadata"),
        ({"traffic_rules": (RULE, RULE)}, "given twice"),
    ],
)
def test_bad_devices_are_refused(iot: IotRegistry, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        iot.register_device(device(**changes))


def test_an_update_replaces_the_device_and_moves_the_etag(iot: IotRegistry) -> None:
    first, _ = iot.register_device(device(metadata=(MetadataEntry("a", "1"),)))
    updated, enabled = iot.update_device("dev-1", device(iot_platform_id="farm"), first.etag)
    assert not enabled  # platform "farm" is not registered
    assert updated.metadata == () and updated.revision == 2 and updated.created_at == NOW
    assert updated.etag != first.etag


def test_an_update_needs_a_matching_if_match(iot: IotRegistry) -> None:
    iot.register_device(device())
    with pytest.raises(PreconditionFailed):
        iot.update_device("dev-1", device(), '"dev-1.7"')
    assert iot.update_device("dev-1", device(), "*")[0].revision == 2
    assert iot.update_device("dev-1", device(), None)[0].revision == 3


def test_an_update_of_an_unknown_device_is_not_found(iot: IotRegistry) -> None:
    with pytest.raises(NotFound):
        iot.update_device("dev-1", device(), None)


def test_an_update_may_not_rename_the_device(iot: IotRegistry) -> None:
    iot.register_device(device())
    with pytest.raises(InvalidInput, match="differs from registeredDeviceId"):
        iot.update_device("dev-1", device("dev-2"), None)


def test_an_update_keeps_who_registered_the_device(
    iot: IotRegistry, uows: InMemoryIotUnitOfWorkFactory
) -> None:
    with uows(write=True) as uow:
        record_sensor_device(uow, "s1", {"temperature": "Cel"}, NOW)
        uow.commit()
    updated, _ = iot.update_device("s1", device("s1"), None)
    assert updated.source is DeviceSource.SENSOR


def test_deregistering(iot: IotRegistry) -> None:
    iot.register_device(device())
    iot.deregister_device("dev-1")
    with pytest.raises(NotFound):
        iot.device("dev-1")
    with pytest.raises(NotFound):
        iot.deregister_device("dev-1")


# -- IoT platforms ---------------------------------------------------------------------------
def test_the_built_in_platform_comes_first_and_cannot_be_touched(iot: IotRegistry) -> None:
    iot.register_platform(platform("farm"))
    assert [p.iot_platform_id for p in iot.platforms()] == [LOCAL_PLATFORM_ID, "farm"]
    assert iot.platform(LOCAL_PLATFORM_ID).built_in
    with pytest.raises(Forbidden):
        iot.update_platform(LOCAL_PLATFORM_ID, platform(LOCAL_PLATFORM_ID), None)
    with pytest.raises(Forbidden):
        iot.deregister_platform(LOCAL_PLATFORM_ID)
    with pytest.raises(Conflict):
        iot.register_platform(platform(LOCAL_PLATFORM_ID))


def test_deregistering_a_platform_disables_its_devices(iot: IotRegistry) -> None:
    iot.register_platform(platform("farm"))
    iot.register_device(device("d1", iot_platform_id="farm", user_transport_id="t1"))
    iot.register_device(device("d2", iot_platform_id="farm", traffic_rules=(RULE,)))
    assert [enabled for _, enabled in iot.devices()] == [True, True]
    iot.deregister_platform("farm")
    assert [enabled for _, enabled in iot.devices()] == [False, True]
    with pytest.raises(NotFound):
        iot.deregister_platform("farm")


def test_a_platform_update_can_drop_a_transport_a_device_uses(iot: IotRegistry) -> None:
    stored = iot.register_platform(platform("farm", transport("t1"), transport("t2")))
    iot.register_device(device(iot_platform_id="farm", user_transport_id="t2"))
    updated = iot.update_platform("farm", platform("farm", transport("t1")), stored.etag)
    assert updated.revision == 2
    assert iot.device("dev-1")[1] is False
    with pytest.raises(PreconditionFailed):
        iot.update_platform("farm", platform("farm"), stored.etag)
    with pytest.raises(InvalidInput, match="differs"):
        iot.update_platform("farm", platform("other"), None)
    with pytest.raises(NotFound):
        iot.update_platform("nowhere", platform("nowhere"), None)


@pytest.mark.parametrize(
    ("transports", "message"),
    [
        ((transport("t1"), transport("t1")), "given twice"),
        ((transport(type="REST_HTTP"),), "MB_TOPIC_BASED"),
        ((transport(endpoint={}),), "exactly one of"),
        ((transport(endpoint={"uris": ["x"], "fqdn": ["y"]}),), "exactly one of"),
        ((), "at least one"),
    ],
)
def test_bad_platforms_are_refused(
    iot: IotRegistry, transports: tuple[Transport, ...], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        iot.register_platform(IotPlatform("farm", transports, enabled=True))


# -- the sensor bridge's hook ---------------------------------------------------------------
def test_a_new_sensor_becomes_an_enabled_device_of_the_built_in_platform(
    iot: IotRegistry, uows: InMemoryIotUnitOfWorkFactory
) -> None:
    with uows(write=True) as uow:
        record_sensor_device(uow, "s1", {"temperature": "Cel", "humidity": "%RH"}, NOW)
        uow.commit()
    stored, enabled = iot.device("s1")
    assert enabled and stored.source is DeviceSource.SENSOR
    assert stored.iot_platform_id == LOCAL_PLATFORM_ID
    assert stored.authentication_info == "mqtt-account:s1"
    assert stored.metadata == (
        MetadataEntry("quantity", "humidity [%RH]"),
        MetadataEntry("quantity", "temperature [Cel]"),
    )


def test_recording_again_writes_nothing(uows: InMemoryIotUnitOfWorkFactory) -> None:
    for _ in range(3):
        with uows(write=True) as uow:
            record_sensor_device(uow, "s1", {"temperature": "Cel"}, NOW)
            uow.commit()
    assert uows.store.writes == 1


def test_recording_keeps_what_clients_wrote(
    iot: IotRegistry, uows: InMemoryIotUnitOfWorkFactory
) -> None:
    mine = (MetadataEntry("room", "lab"), MetadataEntry("quantity", "temperature [°C]"))
    iot.register_device(device("s1", metadata=mine, traffic_rules=(RULE,)))
    with uows(write=True) as uow:
        record_sensor_device(uow, "s1", {"temperature": "Cel", "pressure": None}, NOW)
        uow.commit()
    stored = iot.device("s1")[0]
    assert stored.source is DeviceSource.API and stored.traffic_rules == (RULE,)
    assert stored.authentication_info == "psk:x" and stored.iot_platform_id is None
    assert stored.metadata == (*mine, MetadataEntry("quantity", "pressure"))


def test_a_unit_learnt_later_completes_the_entry() -> None:
    bare = merge_quantities((), {"pressure": None})
    assert merge_quantities(bare, {"pressure": "Pa"}) == (
        MetadataEntry("quantity", "pressure [Pa]"),
    )
    written = (MetadataEntry("quantity", "pressure [hPa]"),)
    assert merge_quantities(written, {"pressure": "Pa"}) == written
    assert merge_quantities(written, {"pressure": None}) == written


def test_metadata_never_grows_beyond_its_limit() -> None:
    full = tuple(MetadataEntry("k", str(i)) for i in range(100))
    assert merge_quantities(full, {"temperature": "Cel"}) == full


def test_an_invalid_sensor_id_is_not_recorded(uows: InMemoryIotUnitOfWorkFactory) -> None:
    with uows(write=True) as uow:
        record_sensor_device(uow, "a..b", {"t": None}, NOW)
        uow.commit()
    assert uows.store.devices == {}
