"""DeviceInfo and IotPlatformInfo as JSON (ETSI GS MEC 033 clause 6.2), and the checks on the
`fields` and `filter` query parameters of their lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from typing import Any

from mec_platform.errors import InvalidInput
from mec_platform.iot.model import (
    Device,
    DeviceIdentifiers,
    IotPlatform,
    JsonObject,
    MetadataEntry,
    Transport,
)

IDENTIFIERS = tuple(f.name for f in dataclass_fields(DeviceIdentifiers))
DEVICE_ATTRIBUTES = frozenset(
    {
        "deviceAuthenticationInfo",
        "deviceMetadata",
        *IDENTIFIERS,
        "deviceId",
        "requestedMecTrafficRule",
        "requestedIotPlatformId",
        "requestedUserTransportId",
        "deviceSpecificMessageFormats",
        "downlinkInfo",
        "clientCertificate",
        "enabled",
    }
)
# GS MEC 033 lists `customServiceTransportInfo` as a `fields` value: the attribute misspelt.
PLATFORM_ATTRIBUTES = frozenset(
    {
        "iotPlatformId",
        "userTransportInfo",
        "customServicesTransportInfo",
        "customServiceTransportInfo",
        "enabled",
    }
)
_TERM = re.compile(r"\(([a-z]+),([^,()]+)((?:,[^,()]*)+)\)")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


# -- devices -----------------------------------------------------------------------------------
def device_from_wire(body: JsonObject) -> Device:
    """A Device from a POST or PUT body; `enabled` is ignored (the platform computes it)."""
    identifiers = DeviceIdentifiers(**{name: body.get(name) for name in IDENTIFIERS})
    metadata = tuple(
        MetadataEntry(entry.get("key"), entry.get("value"))
        for entry in body.get("deviceMetadata") or ()
    )
    return Device(
        device_id=body["deviceId"],
        authentication_info=body["deviceAuthenticationInfo"],
        identifiers=identifiers,
        metadata=metadata,
        traffic_rules=tuple(dict(rule) for rule in body.get("requestedMecTrafficRule") or ()),
        iot_platform_id=body.get("requestedIotPlatformId"),
        user_transport_id=body.get("requestedUserTransportId"),
        message_formats=body.get("deviceSpecificMessageFormats"),
        downlink_info=body.get("downlinkInfo"),
        client_certificate=body.get("clientCertificate"),
    )


def device_to_wire(device: Device, enabled: bool) -> dict[str, Any]:
    """DeviceInfo with the `enabled` pseudo-attribute."""
    ids = device.identifiers
    body = {
        "deviceAuthenticationInfo": device.authentication_info,
        "deviceMetadata": [
            _drop_none({"key": entry.key, "value": entry.value}) for entry in device.metadata
        ]
        or None,
        **{name: getattr(ids, name) for name in IDENTIFIERS},
        "deviceId": device.device_id,
        "requestedMecTrafficRule": [dict(rule) for rule in device.traffic_rules] or None,
        "requestedIotPlatformId": device.iot_platform_id,
        "requestedUserTransportId": device.user_transport_id,
        "deviceSpecificMessageFormats": device.message_formats,
        "downlinkInfo": device.downlink_info,
        "clientCertificate": device.client_certificate,
        "enabled": enabled,
    }
    return _drop_none(body)


# -- IoT platforms -----------------------------------------------------------------------------
def transport_from_wire(body: JsonObject) -> Transport:
    """MBTransportInfo or TransportInfo from JSON."""
    return Transport(
        id=body["id"],
        name=body["name"],
        type=body["type"],
        protocol=body["protocol"],
        version=body["version"],
        endpoint=dict(body["endpoint"]),
        security=dict(body["security"]),
        description=body.get("description"),
        impl_specific_info=body.get("implSpecificInfo"),
    )


def transport_to_wire(transport: Transport) -> dict[str, Any]:
    """MBTransportInfo or TransportInfo as JSON."""
    info = transport.impl_specific_info
    return _drop_none(
        {
            "id": transport.id,
            "name": transport.name,
            "description": transport.description,
            "type": transport.type,
            "protocol": transport.protocol,
            "version": transport.version,
            "endpoint": dict(transport.endpoint),
            "security": dict(transport.security),
            "implSpecificInfo": info if isinstance(info, str | None) else dict(info),
        }
    )


def platform_from_wire(body: JsonObject) -> IotPlatform:
    """An IotPlatform from a POST or PUT body."""
    return IotPlatform(
        iot_platform_id=body["iotPlatformId"],
        user_transports=tuple(transport_from_wire(t) for t in body["userTransportInfo"]),
        enabled=body["enabled"],
        custom_services_transports=tuple(
            transport_from_wire(t) for t in body.get("customServicesTransportInfo") or ()
        ),
    )


def platform_to_wire(platform: IotPlatform) -> dict[str, Any]:
    """IotPlatformInfo."""
    body: dict[str, Any] = {
        "iotPlatformId": platform.iot_platform_id,
        "userTransportInfo": [transport_to_wire(t) for t in platform.user_transports],
        "enabled": platform.enabled,
    }
    if platform.custom_services_transports:
        body["customServicesTransportInfo"] = [
            transport_to_wire(t) for t in platform.custom_services_transports
        ]
    return body


# -- query parameters --------------------------------------------------------------------------
def check_fields(fields: Iterable[str] | None, known: frozenset[str], type_name: str) -> None:
    """InvalidInput unless every name in `fields` (repeated or comma-separated) is in `known`.

    No attribute of these types is left out by default (GS MEC 009 clause 6.18), so a valid
    list changes nothing in the answer.
    """
    for item in fields or ():
        for name in item.split(","):
            if name.strip() not in known:
                raise InvalidInput(f"fields: '{name[:80]}' is not an attribute of {type_name}")


def boolean_filter(expression: str | None) -> str | None:
    """The filter with TRUE/FALSE of boolean attributes spelt as JSON (`true`/`false`).

    GS MEC 033 asks for `(eq,enabled,TRUE)`; the attribute filter compares JSON text.
    """
    if not expression:
        return expression
    return ";".join(_boolean_term(part) for part in expression.split(";"))


def _boolean_term(term: str) -> str:
    match = _TERM.fullmatch(term)
    if match is None:
        return term  # the attribute filter names what is wrong with it
    op, path, rest = match.groups()
    attribute = path.rsplit("/", 1)[-1]
    values = rest[1:].split(",")
    is_boolean = attribute == "enabled" or attribute.startswith("include")
    if not is_boolean or any(v.lower() not in ("true", "false") for v in values):
        return term
    return f"({op},{path},{','.join(v.lower() for v in values)})"
