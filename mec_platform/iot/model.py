"""IoT devices and IoT platforms (ETSI GS MEC 033 clause 6.2) and the rules on them: which
identifiers are allowed, when a device counts as enabled, what a platform must offer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mec_platform.errors import InvalidInput

JsonObject = Mapping[str, Any]

# The built-in platform: the box's own MQTT broker, described from the settings, never stored.
LOCAL_PLATFORM_ID = "umec-mqtt"
LOCAL_TRANSPORT_ID = "mqtt"
# The sensor id grammar: device ids end up in MQTT topics, user names and URLs.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MAX_METADATA = 100
MAX_TRAFFIC_RULES = 16
MAX_TRANSPORTS = 16
ENDPOINT_KINDS = ("uris", "fqdn", "addresses", "alternative")
TOPIC_BASED = "MB_TOPIC_BASED"


class DeviceSource(StrEnum):
    """Who registered a device: a client of the API, or the sensor bridge."""

    API = "api"
    SENSOR = "sensor"


def is_valid_id(value: str) -> bool:
    """True for a device or platform id: `[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}`, no `..`."""
    return _ID.fullmatch(value) is not None and ".." not in value


def check_id(value: str, field: str) -> str:
    """`value` if it is a valid id, else InvalidInput naming `field`."""
    if not is_valid_id(value):
        raise InvalidInput(
            f"{field}: '{value[:80]}' is not a valid id (1 to 64 letters, digits or '_.:-', "
            "starting with a letter or digit, without '..')"
        )
    return value


@dataclass(frozen=True)
class MetadataEntry:
    """One key-value pair of a device's metadata (both optional, as in the GS)."""

    key: str | None
    value: str | None


@dataclass(frozen=True)
class DeviceIdentifiers:
    """Network identifiers of a cellular device (5G: gpsi, pei, supi; LTE: msisdn, imei, imsi)."""

    gpsi: str | None = None
    pei: str | None = None
    supi: str | None = None
    msisdn: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None


@dataclass(frozen=True)
class Device:
    """A registered IoT device; traffic rules, message formats and downlink stay documents."""

    device_id: str
    authentication_info: str
    identifiers: DeviceIdentifiers = DeviceIdentifiers()
    metadata: tuple[MetadataEntry, ...] = ()
    traffic_rules: tuple[JsonObject, ...] = ()
    iot_platform_id: str | None = None
    user_transport_id: str | None = None
    message_formats: JsonObject | None = None
    downlink_info: JsonObject | None = None
    client_certificate: str | None = None
    source: DeviceSource = DeviceSource.API
    revision: int = 1
    created_at: float = 0.0

    @property
    def etag(self) -> str:
        """Strong entity tag of the current representation."""
        return f'"{self.device_id}.{self.revision}"'


@dataclass(frozen=True)
class Transport:
    """A transport of an IoT platform; endpoint and security stay opaque documents."""

    id: str
    name: str
    type: str
    protocol: str
    version: str
    endpoint: JsonObject
    security: JsonObject
    description: str | None = None
    # An object of topics for user transports, free text for service transports (MEC 011).
    impl_specific_info: JsonObject | str | None = None


@dataclass(frozen=True)
class IotPlatform:
    """An IoT platform with its user transports and vendor-specific service transports."""

    iot_platform_id: str
    user_transports: tuple[Transport, ...]
    enabled: bool
    custom_services_transports: tuple[Transport, ...] = ()
    revision: int = 1
    created_at: float = 0.0

    @property
    def built_in(self) -> bool:
        """True for the box's own broker, which the API may not change."""
        return self.iot_platform_id == LOCAL_PLATFORM_ID

    @property
    def etag(self) -> str:
        """Strong entity tag of the current representation."""
        return f'"{self.iot_platform_id}.{self.revision}"'

    def offers(self, transport_id: str) -> bool:
        """True when `transport_id` is one of its user transports."""
        return any(t.id == transport_id for t in self.user_transports)


DeviceView = tuple[Device, bool]
"""A device with its `enabled` pseudo-attribute."""


def is_enabled(device: Device, platforms: Mapping[str, IotPlatform]) -> bool:
    """GS MEC 033 DeviceInfo, note 2: a device is enabled while it has a valid traffic rule.

    That is a traffic rule of its own, or a registered platform and, when it names one, a
    user transport of that platform.
    """
    if device.traffic_rules:
        return True
    platform = platforms.get(device.iot_platform_id or "")
    if platform is None:
        return False
    return device.user_transport_id is None or platform.offers(device.user_transport_id)


def check_device(device: Device) -> Device:
    """The device, or InvalidInput naming the first rule it breaks."""
    check_id(device.device_id, "deviceId")
    if device.user_transport_id is not None and device.iot_platform_id is None:
        raise InvalidInput("requestedUserTransportId: only allowed with requestedIotPlatformId")
    if len(device.metadata) > MAX_METADATA:
        raise InvalidInput(f"deviceMetadata: at most {MAX_METADATA} entries")
    if len(device.traffic_rules) > MAX_TRAFFIC_RULES:
        raise InvalidInput(f"requestedMecTrafficRule: at most {MAX_TRAFFIC_RULES} rules")
    _unique((r.get("trafficRuleId") for r in device.traffic_rules), "requestedMecTrafficRule")
    return device


def check_platform(platform: IotPlatform) -> IotPlatform:
    """The platform, or InvalidInput naming the first rule it breaks."""
    check_id(platform.iot_platform_id, "iotPlatformId")
    if not platform.user_transports:
        raise InvalidInput("userTransportInfo: at least one user transport")
    for field, transports in (
        ("userTransportInfo", platform.user_transports),
        ("customServicesTransportInfo", platform.custom_services_transports),
    ):
        if len(transports) > MAX_TRANSPORTS:
            raise InvalidInput(f"{field}: at most {MAX_TRANSPORTS} transports")
        _unique((t.id for t in transports), field)
        for index, transport in enumerate(transports):
            _check_endpoint(transport.endpoint, f"{field}[{index}].endpoint")
    for index, transport in enumerate(platform.user_transports):
        # GS MEC 033 MBTransportInfo: a user transport is a message bus with topics.
        if transport.type != TOPIC_BASED:
            raise InvalidInput(f"userTransportInfo[{index}].type: must be {TOPIC_BASED}")
    return platform


def _check_endpoint(endpoint: JsonObject, where: str) -> None:
    # GS MEC 011 EndPointInfo: exactly one of the four forms.
    given = [kind for kind in ENDPOINT_KINDS if endpoint.get(kind) is not None]
    if len(given) != 1:
        raise InvalidInput(f"{where}: exactly one of {', '.join(ENDPOINT_KINDS)} is required")


def _unique(ids: Iterable[Any], field: str) -> None:
    seen: set[Any] = set()
    for value in ids:
        if value in seen:
            raise InvalidInput(f"{field}: id '{str(value)[:80]}' is given twice")
        seen.add(value)


def local_platform(mqtt_host: str, mqtt_port: int) -> IotPlatform:
    """The built-in platform: the box's MQTT broker and the topics of sensors and apps."""
    broker = Transport(
        id=LOCAL_TRANSPORT_ID,
        name="Box MQTT broker",
        description="MQTT broker of this box: sensor readings and status, app data",
        type=TOPIC_BASED,
        protocol="MQTT",
        version="3.1.1",
        endpoint={"addresses": [{"host": mqtt_host, "port": mqtt_port}]},
        security={},
        impl_specific_info={
            "uplinkTopics": ["sensors/+/+"],
            "eventTopics": ["sensors/+/$status"],
            "downlinkTopics": ["apps/+/#"],
        },
    )
    return IotPlatform(LOCAL_PLATFORM_ID, (broker,), enabled=True)
