"""SQLAlchemy repositories of the MEC 033 IoT service: devices and IoT platforms.

`add` is an INSERT ... ON CONFLICT DO NOTHING, so a registration racing another one for the
same id (an API client and the sensor bridge, say) is told so instead of failing the
transaction it runs in.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mec_platform.iot.model import (
    Device,
    DeviceIdentifiers,
    DeviceSource,
    IotPlatform,
    MetadataEntry,
    Transport,
)
from mec_platform.storage.iot_tables import iot_devices, iot_platforms
from mec_platform.storage.json_columns import dumps, maybe_dumps, maybe_loads


def _insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    base = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING tells whether a row went in (psycopg reports no rowcount for this statement).
    key = next(iter(table.primary_key))
    statement = base(table).values(**values).on_conflict_do_nothing().returning(key)
    return conn.execute(statement).first() is not None


# -- devices -----------------------------------------------------------------------------------
def _device_values(device: Device) -> dict[str, Any]:
    return {
        "source": device.source.value,
        "authentication_info": device.authentication_info,
        "identifiers": dumps(
            {k: v for k, v in asdict(device.identifiers).items() if v is not None}
        ),
        "device_metadata": dumps([[e.key, e.value] for e in device.metadata]),
        "traffic_rules": dumps([dict(rule) for rule in device.traffic_rules]),
        "iot_platform_id": device.iot_platform_id,
        "user_transport_id": device.user_transport_id,
        "message_formats": maybe_dumps(device.message_formats),
        "downlink_info": maybe_dumps(device.downlink_info),
        "client_certificate": device.client_certificate,
        "revision": device.revision,
    }


def _device_of(row: Row[Any]) -> Device:
    return Device(
        device_id=row.device_id,
        authentication_info=row.authentication_info,
        identifiers=DeviceIdentifiers(**json.loads(row.identifiers)),
        metadata=tuple(MetadataEntry(k, v) for k, v in json.loads(row.device_metadata)),
        traffic_rules=tuple(json.loads(row.traffic_rules)),
        iot_platform_id=row.iot_platform_id,
        user_transport_id=row.user_transport_id,
        message_formats=maybe_loads(row.message_formats),
        downlink_info=maybe_loads(row.downlink_info),
        client_certificate=row.client_certificate,
        source=DeviceSource(row.source),
        revision=row.revision,
        created_at=row.created_at,
    )


class SqlDeviceRepository:
    """Registered IoT devices in `iot_devices`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, device: Device) -> bool:
        values = {"device_id": device.device_id, "created_at": device.created_at}
        return _insert_if_absent(self._conn, iot_devices, {**values, **_device_values(device)})

    def get(self, device_id: str) -> Device | None:
        t = iot_devices
        row = self._conn.execute(select(t).where(t.c.device_id == device_id)).first()
        return _device_of(row) if row else None

    def get_for_update(self, device_id: str) -> Device | None:
        t = iot_devices
        query = select(t).where(t.c.device_id == device_id).with_for_update()
        row = self._conn.execute(query).first()
        return _device_of(row) if row else None

    def all(self) -> list[Device]:
        t = iot_devices
        return [_device_of(row) for row in self._conn.execute(select(t).order_by(t.c.device_id))]

    def update(self, device: Device) -> None:
        t = iot_devices
        self._conn.execute(
            update(t).where(t.c.device_id == device.device_id).values(**_device_values(device))
        )

    def remove(self, device_id: str) -> bool:
        t = iot_devices
        return bool(self._conn.execute(delete(t).where(t.c.device_id == device_id)).rowcount)


# -- IoT platforms -----------------------------------------------------------------------------
def _transports(transports: tuple[Transport, ...]) -> str:
    return dumps([asdict(transport) for transport in transports])


def _transports_of(text: str) -> tuple[Transport, ...]:
    return tuple(Transport(**fields) for fields in json.loads(text))


def _platform_values(platform: IotPlatform) -> dict[str, Any]:
    return {
        "user_transports": _transports(platform.user_transports),
        "custom_services_transports": _transports(platform.custom_services_transports),
        "enabled": platform.enabled,
        "revision": platform.revision,
    }


def _platform_of(row: Row[Any]) -> IotPlatform:
    return IotPlatform(
        iot_platform_id=row.iot_platform_id,
        user_transports=_transports_of(row.user_transports),
        enabled=bool(row.enabled),
        custom_services_transports=_transports_of(row.custom_services_transports),
        revision=row.revision,
        created_at=row.created_at,
    )


class SqlIotPlatformRepository:
    """Registered IoT platforms in `iot_platforms` (the built-in one is never stored)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, platform: IotPlatform) -> bool:
        values = {"iot_platform_id": platform.iot_platform_id, "created_at": platform.created_at}
        return _insert_if_absent(
            self._conn, iot_platforms, {**values, **_platform_values(platform)}
        )

    def get(self, iot_platform_id: str) -> IotPlatform | None:
        t = iot_platforms
        row = self._conn.execute(select(t).where(t.c.iot_platform_id == iot_platform_id)).first()
        return _platform_of(row) if row else None

    def get_for_update(self, iot_platform_id: str) -> IotPlatform | None:
        t = iot_platforms
        query = select(t).where(t.c.iot_platform_id == iot_platform_id).with_for_update()
        row = self._conn.execute(query).first()
        return _platform_of(row) if row else None

    def all(self) -> list[IotPlatform]:
        t = iot_platforms
        rows = self._conn.execute(select(t).order_by(t.c.iot_platform_id))
        return [_platform_of(row) for row in rows]

    def update(self, platform: IotPlatform) -> None:
        t = iot_platforms
        self._conn.execute(
            update(t)
            .where(t.c.iot_platform_id == platform.iot_platform_id)
            .values(**_platform_values(platform))
        )

    def remove(self, iot_platform_id: str) -> bool:
        t = iot_platforms
        result = self._conn.execute(delete(t).where(t.c.iot_platform_id == iot_platform_id))
        return bool(result.rowcount)
